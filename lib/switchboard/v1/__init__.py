"""Generated protobuf and gRPC code (``make protos``). Never edited by hand."""
