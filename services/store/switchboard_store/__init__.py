"""The store service: everything that must survive a restart.

Layout: ``servicer`` (the gRPC edge, with ``wire`` for store-specific conversions) →
``repository.CallRepository`` (the backend contract, in domain types) →
``stored_repository.StoredCallRepository`` (validation, logging and search once; one
storage hook per operation, with ``write_rules``, ``job_rules``, ``sql_leases`` and
``control_records`` shared by the backends) →
``sqlite_repository`` (the embedded default: ``sqlite_db`` threads and migrations,
``sqlite_reads`` / ``sqlite_writes`` queries, ``sqlite_leases`` dialer leases, ``rows``
mapping, ``vectors`` search) or ``postgres_repository`` (``postgres_db`` pool and
migrations, ``postgres_reads`` / ``postgres_writes``, ``postgres_jobs``,
``postgres_leases``) or ``cosmos_repository``, chosen by ``backends``; ``migrate`` is
``switchboard migrate``;
``notifier`` (wakes WatchCall streams after a commit) and ``job_queue.JobQueue`` (durable
jobs such as post-call work, queued with the change that calls for them; on SQLite
``sqlite_jobs``).
"""
