#!/usr/bin/env python3
"""A minimal snakepit worker in Python (grpcio), following the wire rules of snakepit's own
Python worker (priv/python/grpc_server.py): tolerant argv, SNAKEPIT_READY_FILE written
atomically once serving, JSON inside Any both ways, errors as the JSON payload snakepit
translates, SIGTERM -> stop with 2 s of grace and exit 0. Like snakepit's Python worker, it
forwards InitializeSession to the host (at --elixir-address) and registers its tools there
(RegisterTools) on its first call in a session, each described as priv/python/snakepit_bridge/base_adapter.py describes a tool: the
parameter type from its annotation, lowercased; required when it has no default; the default in
`validation_json`; metadata `adapter_class` and `module`.

It is the Python side of the worker benchmarks (bench/run.sh) and the proof, in the tests, that
the launcher drives a non-Rust worker. Needs grpcio and grpcio-tools (pip install grpcio
grpcio-tools); the stubs are generated from proto/snakepit_bridge.proto at start-up.
"""

import argparse
import inspect
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "proto")


def load_stubs():
    """Generates the stubs once per proto version into bench/.python_stubs (as snakepit ships
    pregenerated ones, so that start-up is not charged for protoc)."""
    proto = os.path.join(PROTO_DIR, "snakepit_bridge.proto")
    out = os.path.join(HERE, ".python_stubs", str(int(os.path.getmtime(proto))))
    if not os.path.exists(os.path.join(out, "snakepit_bridge_pb2_grpc.py")):
        import grpc_tools
        from grpc_tools import protoc

        os.makedirs(os.path.dirname(out), exist_ok=True)
        building = tempfile.mkdtemp(prefix="building_", dir=os.path.dirname(out))
        include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        code = protoc.main([
            "protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={building}", f"--grpc_python_out={building}",
            proto,
        ])
        if code != 0:
            raise RuntimeError(f"protoc failed with {code}")
        try:
            os.rename(building, out)
        except OSError:
            pass  # another worker got there first
    sys.path.insert(0, out)
    import snakepit_bridge_pb2
    import snakepit_bridge_pb2_grpc
    return snakepit_bridge_pb2, snakepit_bridge_pb2_grpc


import grpc  # noqa: E402

pb, pb_grpc = load_stubs()
from google.protobuf import any_pb2, timestamp_pb2  # noqa: E402

JSON_TYPE_URL = "type.googleapis.com/google.protobuf.StringValue"


def tool_ping(message: str = "pong"):
    """Echo back a message with a timestamp."""
    return {"message": message, "timestamp": str(time.time())}


def tool_echo(**kwargs):
    """Echo back every parameter."""
    return {"echoed": kwargs}


def tool_basic_add(a: float, b: float):
    """Add two numbers."""
    return a + b


def tool_error_demo(error_type: str = "generic"):
    """Raise the error `error_type` names: value, runtime or generic."""
    if error_type == "value":
        raise ValueError("This is a demonstration ValueError")
    if error_type == "runtime":
        raise RuntimeError("This is a demonstration RuntimeError")
    raise Exception("This is a generic exception")


def tool_payload(size: int = 0):
    """A string of `size` bytes."""
    return {"data": "x" * int(size)}


def tool_stream_data(count: int = 5, delay: float = 1.0):
    """Stream `count` chunks, `delay` seconds apart."""
    for i in range(1, int(count) + 1):
        yield {"index": i, "total": count, "message": f"Chunk {i}/{count}"}, i == count
        if i < count and delay:
            time.sleep(delay)


TOOLS = {
    "ping": tool_ping,
    "echo": tool_echo,
    "basic_add": tool_basic_add,
    "error_demo": tool_error_demo,
    "payload": tool_payload,
}
STREAMING = {"stream_data": tool_stream_data}


def parameter_spec(name, param):
    """base_adapter.py `_create_parameter_spec`."""
    param_type = "any"
    if param.annotation != inspect.Parameter.empty:
        param_type = getattr(param.annotation, "__name__", str(param.annotation)).lower()
    spec = pb.ParameterSpec(name=name, type=param_type, description="", required=param.default == inspect.Parameter.empty)
    if param.default != inspect.Parameter.empty:
        spec.validation_json = json.dumps({"default": param.default})
    return spec


def tool_registrations():
    """base_adapter.py `_create_tool_registration`, for every tool."""
    tools = [(name, func, False) for name, func in TOOLS.items()] + [(name, func, True) for name, func in STREAMING.items()]
    return [
        pb.ToolRegistration(
            name=name,
            description=(func.__doc__ or "").strip(),
            parameters=[parameter_spec(n, p) for n, p in inspect.signature(func).parameters.items()],
            supports_streaming=streaming,
            metadata={"adapter_class": "PythonBenchWorker", "module": __name__},
        )
        for name, func, streaming in tools
    ]


class Registrar:
    """Registers the tools once per session, on the session's first call."""

    def __init__(self, elixir_address):
        self.stub = pb_grpc.BridgeServiceStub(grpc.insecure_channel(elixir_address)) if elixir_address else None
        self.sessions = set()
        self.lock = threading.Lock()

    def ensure(self, session_id):
        if self.stub is None:
            return
        with self.lock:
            if session_id in self.sessions:
                return
            self.sessions.add(session_id)
        try:
            response = self.stub.RegisterTools(
                pb.RegisterToolsRequest(session_id=session_id, tools=tool_registrations(), worker_id=f"python-{os.getpid()}"),
                timeout=10,
            )
            if not response.success:
                print(f"could not register the tools: {response.error_message}", file=sys.stderr)
        except grpc.RpcError as error:  # the call itself still runs
            print(f"could not register the tools: {error}", file=sys.stderr)


def error_payload(exc, tool, session):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return json.dumps({
        "type": type(exc).__name__,
        "message": str(exc),
        "stacktrace": lines,
        "traceback": "".join(lines),
        "context": {"tool_name": tool, "session_id": session},
    })


def decode_parameters(request):
    # JSON inside Any whatever the type_url, as the host sends it.
    return {key: json.loads(any_value.value.decode("utf-8")) for key, any_value in request.parameters.items()}


class Servicer(pb_grpc.BridgeServiceServicer):
    def __init__(self, registrar):
        self.registrar = registrar

    def Ping(self, request, context):
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return pb.PingResponse(message=f"Pong from Python: {request.message}", server_time=now)

    def InitializeSession(self, request, context):
        # Forwarded to the host, which creates the session (RegisterTools needs it).
        if self.registrar.stub is None:
            return pb.InitializeSessionResponse(success=True)
        try:
            return self.registrar.stub.InitializeSession(request, timeout=10)
        except grpc.RpcError as error:
            return pb.InitializeSessionResponse(success=False, error_message=str(error))

    def Heartbeat(self, request, context):
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return pb.HeartbeatResponse(server_time=now, session_valid=True)

    def ExecuteTool(self, request, context):
        self.registrar.ensure(request.session_id)
        tool = TOOLS.get(request.tool_name)
        try:
            if tool is None:
                raise AttributeError(f"Tool '{request.tool_name}' not found in PythonBenchWorker")
            result = tool(**decode_parameters(request))
            return pb.ExecuteToolResponse(
                success=True,
                result=any_pb2.Any(type_url=JSON_TYPE_URL, value=json.dumps(result).encode("utf-8")),
            )
        except Exception as exc:  # noqa: BLE001 - every failure is one failed call
            return pb.ExecuteToolResponse(success=False, error_message=error_payload(exc, request.tool_name, request.session_id))

    def ExecuteStreamingTool(self, request, context):
        self.registrar.ensure(request.session_id)
        tool = STREAMING.get(request.tool_name)
        if tool is None:
            context.abort(grpc.StatusCode.INTERNAL, json.dumps({"type": "AttributeError", "message": f"Tool '{request.tool_name}' not found"}))
        n = 0
        sent_final = False
        for data, is_final in tool(**decode_parameters(request)):
            n += 1
            sent_final = sent_final or is_final
            yield pb.ToolChunk(chunk_id=f"{request.tool_name}-{n}", data=json.dumps(data).encode("utf-8"), is_final=is_final)
        if not sent_final:
            yield pb.ToolChunk(chunk_id=f"{request.tool_name}-{n + 1}", data=b"", is_final=True)


def signal_ready(port):
    path = os.environ.get("SNAKEPIT_READY_FILE")
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--elixir-address")
    parser.add_argument("--threads", type=int, default=16)
    args, _unknown = parser.parse_known_args()
    if os.environ.get("SNAKEPIT_PROCESS_GROUP", "").lower() in ("1", "true", "yes", "on"):
        try:
            os.setsid()
        except OSError:
            pass
    # SIGTERM and SIGINT are blocked before any thread starts, so every gRPC and pool thread
    # inherits the mask and the main thread takes them with sigwait. A handler would run only
    # when the signal interrupts the main thread: one delivered to a gRPC thread instead would
    # leave the main thread asleep and the worker deaf to SIGTERM.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    max_size = 100 * 1024 * 1024
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.threads),
        options=[("grpc.max_send_message_length", max_size), ("grpc.max_receive_message_length", max_size)],
    )
    pb_grpc.add_BridgeServiceServicer_to_server(Servicer(Registrar(args.elixir_address)), server)
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    signal_ready(port)
    signal.sigwait(stop_signals)
    server.stop(2.0).wait(3.0)
    # Exit now rather than through the interpreter's shutdown, which joins every pool thread
    # and tears gRPC down with no bound: the launcher's grace period is the worker's to keep.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
