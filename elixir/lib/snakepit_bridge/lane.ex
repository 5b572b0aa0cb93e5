defmodule SnakepitBridge.Lane do
  @moduledoc """
  The Unix-socket lane: how `SnakepitBridge.Adapter` carries `Snakepit.execute/3` and
  `Snakepit.execute_stream/4` calls to a Rust worker without snakepit's gRPC client.

  The BEAM makes one directory that only its user may enter (mode 0700) and names it in
  `SNAKEPIT_BRIDGE_LANE_DIR`, which the workers it launches inherit. A snakepit-bridge worker
  then listens on `<port>.sock` there (its gRPC port) before it writes its ready file; when
  snakepit connects the worker (`init_grpc_connection/1`), the adapter connects to that socket
  too and says hello. A worker that offers no socket (snakepit's Python worker, an older Rust
  worker) is driven over gRPC as before, with nothing to configure.

  On the lane, a frame is `{packet, 4}`, a 64-bit call id, and one term
  (`:erlang.term_to_binary/1`). The request is the one snakepit's client would send
  (`Snakepit.GRPC.ClientImpl.prepare_execute_tool_request/5`: the same JSON of each parameter,
  the same correlation id and metadata); the worker runs it through the same code as a gRPC
  call and answers the protobuf response's fields, which are read back by snakepit's own
  `decode_tool_response/1`. A caller sees what the gRPC path gives: values, binary results,
  the error structs, stream chunks, timeouts and correlation ids. Sessions, heartbeats, health
  checks, telemetry and the worker's calls back into Elixir stay on snakepit's gRPC channel.

  Only the BEAM's user can reach the socket: unlike the worker's loopback TCP port, which
  every local user can connect to, no other user of the machine can send the worker calls
  through the lane.

  The rules of the wire on the Rust side: `snakepit_bridge_spec::lane`.
  """

  require Logger

  alias Snakepit.Bridge.{ExecuteToolResponse, ToolChunk}
  alias Snakepit.Defaults
  alias Snakepit.GRPC.ClientImpl
  alias SnakepitBridge.Lane.Connection

  @dir_env "SNAKEPIT_BRIDGE_LANE_DIR"

  # How long past a call's deadline the lane waits for the worker's own answer to it.
  @answer_grace 1_000

  @typedoc """
  A worker's lane: its connection process, and snakepit's runtime metadata
  (`Snakepit.PythonRuntime.runtime_metadata/0`) read when it was connected.
  """
  @type t :: %__MODULE__{
          connection: pid(),
          handle: Connection.handle(),
          runtime_metadata: map()
        }

  @enforce_keys [:connection, :handle]
  defstruct [:connection, :handle, runtime_metadata: %{}]

  @doc "The environment variable naming the lane directory."
  @spec dir_env() :: String.t()
  def dir_env, do: @dir_env

  @doc """
  The lane directory of this BEAM, made (mode 0700) and put in the environment on first use,
  so that every worker launched afterwards offers the lane. `nil` when no private directory
  can be made (logged once); workers are then driven over gRPC.
  """
  @spec ensure_dir() :: String.t() | nil
  def ensure_dir do
    case :persistent_term.get({__MODULE__, :dir}, :unset) do
      :unset -> :global.trans({__MODULE__, :dir}, &make_dir_once/0, [node()])
      dir -> dir
    end
  end

  defp make_dir_once do
    case :persistent_term.get({__MODULE__, :dir}, :unset) do
      :unset ->
        dir = make_dir()
        if dir, do: System.put_env(@dir_env, dir)
        :persistent_term.put({__MODULE__, :dir}, dir)
        dir

      dir ->
        dir
    end
  end

  defp make_dir do
    base = System.tmp_dir() || "/tmp"
    suffix = Base.url_encode64(:crypto.strong_rand_bytes(6), padding: false)
    dir = Path.join(base, "snakepit-bridge-#{System.pid()}-#{suffix}")

    # Made new (never an existing directory, which someone else may have made) and closed to
    # everyone else before any socket is in it.
    with :ok <- File.mkdir(dir),
         :ok <- File.chmod(dir, 0o700) do
      dir
    else
      {:error, reason} ->
        Logger.warning(
          "snakepit_bridge: cannot make the lane directory #{dir} (#{:file.format_error(reason)}); " <>
            "workers are driven over snakepit's gRPC"
        )

        nil
    end
  end

  @doc """
  Connects to the lane of the worker on `port` in `dir`: `{:ok, lane}`, or `:none` when the
  worker offers none (no socket, or no hello within a second). The connection lives as long
  as the calling process (snakepit's GRPCWorker).
  """
  @spec connect(String.t() | nil, non_neg_integer()) :: {:ok, t()} | :none
  def connect(nil, _port), do: :none

  def connect(dir, port) when is_binary(dir) and is_integer(port) do
    path = Path.join(dir, "#{port}.sock")

    if File.exists?(path) do
      case Connection.start(path, port, self()) do
        {:ok, connection, handle} ->
          {:ok,
           %__MODULE__{
             connection: connection,
             handle: handle,
             runtime_metadata: Snakepit.PythonRuntime.runtime_metadata()
           }}

        {:error, reason} ->
          Logger.warning(
            "snakepit_bridge: the worker on port #{port} offers a lane at #{path} but it " <>
              "cannot be used (#{inspect(reason)}); its calls go over snakepit's gRPC"
          )

          :none
      end
    else
      :none
    end
  end

  @doc """
  `Snakepit.Adapters.GRPCPython.grpc_execute/6` on the lane: the same request, the same
  answer. `:not_sent` when the lane is gone but the call was not sent (the caller sends it
  over gRPC instead, as `SnakepitBridge.Adapter` does).
  """
  @spec execute(t(), String.t(), String.t(), map() | keyword(), timeout(), keyword()) ::
          {:ok, term()} | {:error, term()} | :not_sent
  def execute(%__MODULE__{} = lane, session_id, command, args, timeout, opts) do
    with {:ok, frame, timeout} <- request(lane, session_id, command, args, timeout, opts, false) do
      deadline = deadline(timeout, @answer_grace)

      Connection.with_socket(lane.handle, deadline, fn socket ->
        id = call_id()

        with :ok <- send_frame(lane, socket, id, frame),
             {:ok, body} <- next_frame(lane, socket, id, deadline, command) do
          unary_answer(body)
        end
      end)
      |> unary_failure()
      |> unavailable_or_timeout()
    end
  end

  @doc """
  `Snakepit.Adapters.GRPCPython.grpc_execute_stream/7` on the lane: each chunk is handed to
  `callback_fn` as snakepit's gRPC path hands it (`:halt` and `{:halt, reason}` stop the
  stream; a raising callback is `{:error, {:callback_exception, exception, stacktrace}}`).
  `:not_sent` as for `execute/6`.
  """
  @spec execute_stream(
          t(),
          String.t(),
          String.t(),
          map() | keyword(),
          (map() -> term()),
          timeout(),
          keyword()
        ) :: :ok | {:error, term()} | :not_sent
  def execute_stream(%__MODULE__{} = lane, session_id, command, args, callback_fn, timeout, opts)
      when is_function(callback_fn, 1) do
    with {:ok, frame, timeout} <- request(lane, session_id, command, args, timeout, opts, true) do
      deadline = deadline(timeout, @answer_grace)

      Connection.with_socket(lane.handle, deadline, fn socket ->
        id = call_id()

        with :ok <- send_frame(lane, socket, id, frame) do
          stream_loop(socket, lane, id, command, callback_fn, deadline)
        end
      end)
      |> stream_timeout()
      |> stream_failure()
      |> unavailable_or_timeout()
    end
  end

  defp stream_loop(socket, lane, id, command, callback_fn, deadline) do
    with {:ok, body} <- next_frame(lane, socket, id, deadline, command) do
      case stream_item(body) do
        {:chunk, chunk} ->
          case deliver_chunk(chunk, callback_fn) do
            :cont ->
              stream_loop(socket, lane, id, command, callback_fn, deadline)

            {:halt, result} ->
              cancel(socket, id)
              result
          end

        {:done, {:error, {:invalid_lane_frame, _}} = result} ->
          cancel(socket, id)
          result

        {:done, result} ->
          result
      end
    end
  end

  # Call ids are unique on this node, so that a late frame of an earlier call (skipped by
  # next_frame/4) is never taken for an answer.
  defp call_id, do: :erlang.unique_integer([:positive])

  # A frame that could not be written to a closed socket was not taken by the worker: the call
  # goes over gRPC. A send that timed out may have been taken (part or all of it may be on its
  # way), so that call fails rather than run twice; the lane, stuck, is given up.
  defp send_frame(lane, socket, id, frame) do
    case :gen_tcp.send(socket, [<<id::64>>, frame]) do
      :ok ->
        :ok

      {:error, :timeout} ->
        give_up(lane, :send_timeout)
        {:error, :timeout}

      {:error, reason} ->
        give_up(lane, reason)
        :not_sent
    end
  end

  # The next frame of call `id`, skipping frames of earlier calls; at the deadline the worker
  # is told to drop the call.
  defp next_frame(lane, socket, id, deadline, command) do
    case :gen_tcp.recv(socket, 0, remaining(deadline)) do
      {:ok, <<^id::64, body::binary>>} ->
        {:ok, body}

      {:ok, _earlier_call} ->
        next_frame(lane, socket, id, deadline, command)

      {:error, :timeout} ->
        cancel(socket, id)
        :timeout

      # A reader of the socket was killed while it waited (the driver holds its read until
      # the next frame, which it takes): this call's answer is lost; the next call reads again.
      {:error, :ealready} ->
        Logger.warning(
          "snakepit_bridge: `#{command}` lost its answer on the lane: a process killed while " <>
            "reading the lane took it"
        )

        :lost

      {:error, reason} ->
        give_up(lane, reason)

        Logger.warning(
          "snakepit_bridge: the worker's lane closed during `#{command}` (#{inspect(reason)})"
        )

        {:closed, reason}
    end
  end

  # What snakepit's client gives for a unary call whose HTTP/2 stream broke: gRPC INTERNAL,
  # mapped by lib/snakepit/grpc/client_impl.ex handle_error/1 (UNAVAILABLE for an answer lost
  # on the way).
  defp unary_failure({:closed, _reason}), do: {:error, :internal}
  defp unary_failure(:lost), do: {:error, :unavailable}
  defp unary_failure(result), do: result

  # A stream's error is not mapped by snakepit (lib/snakepit/adapters/grpc_python.ex
  # process_stream_message/2 halts with it): when the worker's connection breaks, the caller
  # gets elixir-grpc's RPCError for gun's closed stream (or, when the GRPCWorker sees the
  # worker's exit first, its "Worker shutting down": on gRPC the two race).
  defp stream_failure({:closed, _reason}),
    do:
      {:error, %GRPC.RPCError{status: GRPC.Status.internal(), message: ":stream_error: :closed"}}

  defp stream_failure(:lost),
    do:
      {:error,
       %GRPC.RPCError{
         status: GRPC.Status.unavailable(),
         message: "the stream's answer was taken by a process killed while it read the lane"
       }}

  defp stream_failure(result), do: result

  # The socket is closed (the worker is gone, or dropped the connection): its connection
  # process stops, and the worker's next calls go over snakepit's gRPC, which tells whether
  # the worker is still there.
  defp give_up(lane, reason) do
    Logger.warning(
      "snakepit_bridge: the worker's Unix-socket lane is closed (#{inspect(reason)}); its " <>
        "calls go over snakepit's gRPC from now on"
    )

    Connection.close(lane.connection)
  end

  defp cancel(socket, id) do
    _ = :gen_tcp.send(socket, [<<id::64>>, :erlang.term_to_binary({:cancel})])
    :ok
  end

  # The worker ends a call whose deadline passed itself (a unary call with CANCELLED "Timeout
  # expired", as tonic's server does; a stream with DEADLINE_EXCEEDED naming the tool), and
  # that answer is what snakepit's gRPC client hands on. The lane waits for it as long again as
  # @answer_grace; a worker that sends nothing by then gets the caller snakepit's `{:error,
  # :timeout}` (its client's mapping of DEADLINE_EXCEEDED), or for a stream the RPCError its
  # gRPC stream would end with.
  defp stream_timeout(:timeout),
    do:
      {:error,
       %GRPC.RPCError{
         status: GRPC.Status.deadline_exceeded(),
         # elixir-grpc's own words for it (lib/grpc/client/adapters/gun.ex).
         message: "timeout when waiting for server"
       }}

  defp stream_timeout(result), do: result

  defp unavailable_or_timeout(:closed), do: :not_sent
  defp unavailable_or_timeout(:busy), do: :not_sent
  defp unavailable_or_timeout(:timeout), do: {:error, :timeout}
  defp unavailable_or_timeout(result), do: result

  # The request snakepit's gRPC client would send (lib/snakepit/grpc/client_impl.ex
  # prepare_execute_request/7), as a term: each parameter's JSON in a
  # `google.protobuf.StringValue` Any, binary parameters as they are, the correlation id taken
  # out of the parameters into the metadata (and the `x-snakepit-correlation-id` header), and
  # snakepit's runtime metadata. That metadata is read once per connection: snakepit's client
  # reads it on every call (PythonRuntime.runtime_metadata/0 searches PATH for python3 each
  # time), which costs more than the whole lane.
  defp request(lane, session_id, command, args, timeout, opts, stream?) do
    correlation_id =
      opts
      |> Keyword.get(:correlation_id)
      |> Kernel.||(correlation_param(args))
      |> Snakepit.Telemetry.Correlation.ensure()

    default =
      if stream?, do: Defaults.grpc_worker_stream_timeout(), else: Defaults.grpc_command_timeout()

    timeout = normalize_timeout(timeout || default, stream?)

    with {:ok, parameters} <- encode_parameters(without_correlation(args)),
         {:ok, binary_parameters} <- binary_parameters(Keyword.get(opts, :binary_parameters)) do
      metadata =
        %{"correlation_id" => correlation_id}
        |> Map.merge(lane.runtime_metadata)
        |> thread_sensitive(Keyword.get(opts, :thread_sensitive, false))

      term =
        {:execute, session_id, command, parameters, binary_parameters, metadata, correlation_id,
         timeout, stream?}

      {:ok, :erlang.term_to_binary(term), timeout}
    end
  end

  @string_value "type.googleapis.com/google.protobuf.StringValue"

  defp encode_parameters(parameters) do
    Enum.reduce_while(parameters, {:ok, %{}}, fn {name, value}, {:ok, acc} ->
      case Jason.encode(value) do
        {:ok, json} ->
          {:cont, {:ok, Map.put(acc, to_string(name), {@string_value, json})}}

        {:error, %Jason.EncodeError{} = error} ->
          {:halt, {:error, {:invalid_parameter, :json_encode_failed, Exception.message(error)}}}

        {:error, other} ->
          {:halt, {:error, {:invalid_parameter, :json_encode_failed, inspect(other)}}}
      end
    end)
  end

  defp binary_parameters(params) when is_map(params) do
    Enum.reduce_while(params, {:ok, %{}}, fn {key, value}, {:ok, acc} ->
      if is_binary(value),
        do: {:cont, {:ok, Map.put(acc, to_string(key), value)}},
        else: {:halt, {:error, {:invalid_parameter, key, :not_binary}}}
    end)
  end

  defp binary_parameters(_), do: {:ok, %{}}

  defp correlation_param(args) when is_map(args),
    do: Map.get(args, :correlation_id) || Map.get(args, "correlation_id")

  defp correlation_param(args) when is_list(args) do
    Enum.find_value(args, fn
      {:correlation_id, value} -> value
      {"correlation_id", value} -> value
      _ -> nil
    end)
  end

  defp correlation_param(_), do: nil

  defp without_correlation(args) when is_map(args),
    do: args |> Map.delete(:correlation_id) |> Map.delete("correlation_id")

  defp without_correlation(args) when is_list(args),
    do: Enum.reject(args, &match?({key, _} when key in [:correlation_id, "correlation_id"], &1))

  defp without_correlation(args), do: args

  defp thread_sensitive(metadata, flag) when flag in [true, "true"],
    do: Map.put(metadata, "thread_sensitive", "true")

  defp thread_sensitive(metadata, _), do: metadata

  # As snakepit's client, then elixir-grpc's stub: a timeout that is not a positive integer is
  # none, and the stub's default applies (10 s for a unary call, none for a stream).
  defp normalize_timeout(:infinity, _stream?), do: :infinity
  defp normalize_timeout(timeout, _stream?) when is_integer(timeout) and timeout > 0, do: timeout
  defp normalize_timeout(_other, false), do: 10_000
  defp normalize_timeout(_other, true), do: :infinity

  defp unary_answer(body) do
    case decode(body) do
      {:response, success, result, error_message, binary_result, execution_time_ms} ->
        ClientImpl.decode_tool_response(%ExecuteToolResponse{
          success: success,
          result: any(result),
          error_message: error_message,
          binary_result: binary_result,
          execution_time_ms: execution_time_ms
        })

      {:status, code, message} ->
        status_error(code, message)

      other ->
        {:error, {:invalid_lane_frame, other}}
    end
  end

  defp stream_item(body) do
    case decode(body) do
      {:chunk, chunk_id, data, is_final, metadata} ->
        {:chunk,
         %ToolChunk{chunk_id: chunk_id, data: data, is_final: is_final, metadata: metadata}}

      {:end} ->
        {:done, :ok}

      # As the gRPC stream ends: the raw RPCError (SnakepitBridge.Adapter translates a tool's
      # error JSON, for both lanes).
      {:status, code, message} ->
        {:done, {:error, %GRPC.RPCError{status: code, message: message}}}

      other ->
        {:done, {:error, {:invalid_lane_frame, other}}}
    end
  end

  defp decode(body) do
    :erlang.binary_to_term(body, [:safe])
  rescue
    ArgumentError -> {:invalid, byte_size(body)}
  end

  defp any(nil), do: nil
  defp any({type_url, value}), do: %Google.Protobuf.Any{type_url: type_url, value: value}

  # snakepit's mapping of a gRPC status to a unary call's error
  # (lib/snakepit/grpc/client_impl.ex handle_error/1).
  defp status_error(code, message) do
    case code do
      3 -> status_atom(:invalid_argument, message)
      4 -> status_atom(:timeout, message)
      5 -> status_atom(:not_found, message)
      13 -> status_atom(:internal, message)
      14 -> status_atom(:unavailable, message)
      _ -> {:error, %GRPC.RPCError{status: code, message: message}}
    end
  end

  defp status_atom(atom, message) do
    Logger.warning("snakepit_bridge: a lane call ended with #{atom}: #{message}")
    {:error, atom}
  end

  # snakepit's delivery of one chunk (lib/snakepit/adapters/grpc_python.ex deliver_chunk/2 and
  # build_payload/1): the payload, then what the callback's answer means.
  defp deliver_chunk(%ToolChunk{} = chunk, callback_fn) do
    payload = build_payload(chunk)

    try do
      case callback_fn.(payload) do
        :halt -> {:halt, :ok}
        {:halt, reason} -> {:halt, {:error, reason}}
        _ -> :cont
      end
    rescue
      exception ->
        {:halt, {:error, {:callback_exception, exception, __STACKTRACE__}}}
    end
  end

  defp build_payload(%ToolChunk{} = chunk) do
    base =
      case chunk.data do
        "" ->
          %{}

        data ->
          case Jason.decode(data) do
            {:ok, %{} = map} -> map
            {:ok, value} -> %{"data" => value}
            {:error, _} -> %{"raw_data_base64" => Base.encode64(data)}
          end
      end

    base
    |> Map.put("is_final", chunk.is_final)
    |> with_metadata(chunk.metadata)
  end

  defp with_metadata(payload, metadata) when metadata in [%{}, nil], do: payload

  defp with_metadata(payload, metadata) do
    cleaned = metadata |> Enum.reject(fn {_k, v} -> is_nil(v) end) |> Map.new()
    if map_size(cleaned) > 0, do: Map.put(payload, "_metadata", cleaned), else: payload
  end

  defp deadline(:infinity, _grace), do: :infinity
  defp deadline(timeout, grace), do: System.monotonic_time(:millisecond) + timeout + grace

  defp remaining(:infinity), do: :infinity
  defp remaining(deadline), do: max(deadline - System.monotonic_time(:millisecond), 0)
end
