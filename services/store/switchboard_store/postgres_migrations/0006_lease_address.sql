-- Where gateways reach the dialer replica that holds a call's lease (its
-- dialer.advertise_address, host:port), so REST hang-up and transfer go to the replica
-- that runs the call. '' when it advertises none (one replica: services.dialer).
ALTER TABLE calls ADD COLUMN lease_address TEXT NOT NULL DEFAULT '';
