"""Test support for every service's tests, the cross-service tests and the benchmarks.

Fakes that implement the services' own provider and port base classes, dialogue and
model helpers, the real SIP peers' drivers (baresip, sipp, kamailio) and free-port
helpers. The one virtual clock is :class:`switchboard_testing.clock.VirtualClock`.
Nothing in the runtime packages imports this one (an import contract checks it).
"""
