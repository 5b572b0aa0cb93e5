#!/usr/bin/env python3
"""The same `calculate_fibonacci` call from Python with grpcio, as snakepit's Python workers make it.

Usage: python_client.py ADDRESS SESSION PROTO_DIR
Prints one Markdown table row set. Stubs are generated into a temporary folder with grpc_tools.
Parameters are sent the way the real host wants them (raw JSON bytes inside Any), not the way
snakepit's own Python client does it (which a real host rejects for strings).
"""
import json
import os
import statistics
import sys
import tempfile
import time

import grpc
import grpc_tools
from grpc_tools import protoc

address, session, proto_dir = sys.argv[1:4]
stubs = tempfile.mkdtemp()
well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
status = protoc.main(
    ["", f"-I{proto_dir}", f"-I{well_known}", f"--python_out={stubs}", f"--grpc_python_out={stubs}", "snakepit_bridge.proto"]
)
assert status == 0, "grpc_tools could not compile the proto"
sys.path.insert(0, stubs)
import snakepit_bridge_pb2 as pb  # noqa: E402
import snakepit_bridge_pb2_grpc as pb_grpc  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402

TYPE_URL = "type.googleapis.com/google.protobuf.StringValue"
stub = pb_grpc.BridgeServiceStub(grpc.insecure_channel(address))


def call():
    request = pb.ExecuteElixirToolRequest(
        session_id=session,
        tool_name="calculate_fibonacci",
        parameters={"n": any_pb2.Any(type_url=TYPE_URL, value=json.dumps(12).encode())},
    )
    response = stub.ExecuteElixirTool(request)
    assert response.success, response.error_message
    return json.loads(response.result.value)


for _ in range(500):
    call()
samples = []
for _ in range(5000):
    started = time.perf_counter()
    call()
    samples.append(time.perf_counter() - started)
samples.sort()
median = statistics.median(samples) * 1e6
p99 = samples[int(len(samples) * 0.99)] * 1e6
print("| client | median | p99 |")
print("|---|---|---|")
print(f"| Python grpcio {grpc.__version__} (unary, JSON decode) | {median:.1f} µs | {p99:.1f} µs |")
