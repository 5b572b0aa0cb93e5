defmodule SnakepitBridge.ElixirTools.Workers do
  @moduledoc false
  # The tools of a pool's `elixir_tools:` registered for each of its workers, from inside the
  # worker's own GRPCWorker process, before the worker's OS process exists.
  #
  # snakepit v0.13 has no hook for a new session, but it calls the adapter's
  # `executable_path/0` in GRPCWorker.init, after it has generated the worker's session id and
  # set it, the worker id and the pool name as Logger metadata (lib/snakepit/grpc_worker/
  # bootstrap.ex init/1 and init_worker/5, lib/snakepit/worker/configuration.ex
  # build_spawn_config/6). Registering there puts the tools in place before the worker can
  # call back:
  #
  #   * in the worker's session, the one snakepit sends with every call
  #     (grpc_worker.ex execute_instrumented_call_result/6), released when the GRPCWorker
  #     process ends (snakepit's ToolRegistry keeps a session's tools until
  #     cleanup_session/1, which nothing in snakepit calls);
  #   * in the worker's start-up session, `<worker id>-startup` (the worker id as its ready
  #     file names it, configuration.ex build_ready_file/1), where a Rust worker's
  #     `StartContext::verify` checks them before it writes its ready file; released once the
  #     worker is connected (`connected/0`, from the adapter's init_grpc_connection/1).
  #
  # test/snakepit_bridge/elixir_tools_workers_test.exs pins the Logger metadata this relies
  # on; the real-snakepit suite checks both sessions in a running pool.

  alias SnakepitBridge.ElixirTools

  @doc """
  Called from the adapter's `executable_path/0`: registers the pool's tools for the worker
  being started. Does nothing outside a GRPCWorker's start or for a pool without tools.
  """
  def starting do
    with {:ok, worker} <- current_worker(),
         [_ | _] = modules <- pool_tools(worker.pool_name) do
      startup = startup_session(worker.worker_id)
      # A worker restarted under the same id finds its predecessor's start-up tools.
      :ok = ElixirTools.unregister(startup)

      for session <- [worker.session_id, startup] do
        case ElixirTools.register(session, modules) do
          :ok ->
            :ok

          {:error, message} ->
            raise ArgumentError,
                  "snakepit_bridge: pool #{inspect(worker.pool_name)}, worker " <>
                    "#{worker.worker_id}: #{message}"
        end
      end

      release_on_exit(self(), worker.session_id)
    end

    :ok
  end

  @doc "Called from the adapter's `init_grpc_connection/1`: the start-up session is over."
  def connected do
    with {:ok, worker} <- current_worker(),
         [_ | _] <- pool_tools(worker.pool_name) do
      ElixirTools.unregister(startup_session(worker.worker_id))
    end

    :ok
  end

  @doc "The session a Rust worker verifies its Elixir tools in at start-up."
  def startup_session(worker_id) do
    # configuration.ex build_ready_file/1; bridge-worker's StartContext::session_id
    safe = worker_id |> to_string() |> String.replace(~r/[^a-zA-Z0-9_.-]/, "_")
    safe <> "-startup"
  end

  @doc "The tool modules of pool `pool_name` (`elixir_tools:` of its configuration)."
  def pool_tools(pool_name) do
    case Snakepit.Config.get_pool_config(pool_name) do
      {:ok, config} -> Map.get(config, :elixir_tools, [])
      {:error, _} -> []
    end
  end

  @doc """
  The GRPCWorker starting in this process: `{:ok, %{worker_id, pool_name, session_id}}`, or
  `:error` elsewhere. The worker and session ids are snakepit's Logger metadata; the pool's
  configured name is the `:pool_identifier` the worker registered under in
  `Snakepit.Pool.Registry` before its init went on (bootstrap.ex init/1; the Logger
  metadata's `:pool_name` is the pool process's name, `Snakepit.Pool`).
  """
  def current_worker do
    metadata = Logger.metadata()

    with worker_id when is_binary(worker_id) <- metadata[:worker_id],
         session_id when is_binary(session_id) <- metadata[:session_id],
         {:ok, %{pool_identifier: pool}} when is_atom(pool) and not is_nil(pool) <-
           Snakepit.Pool.Registry.get_worker_metadata(worker_id) do
      {:ok, %{worker_id: worker_id, pool_name: pool, session_id: session_id}}
    else
      _ -> :error
    end
  end

  defp release_on_exit(worker_pid, session_id) do
    spawn(fn ->
      ref = Process.monitor(worker_pid)

      receive do
        {:DOWN, ^ref, :process, _pid, _reason} ->
          # snakepit may be stopping, with its ToolRegistry gone.
          try do
            ElixirTools.unregister(session_id)
          catch
            :exit, _ -> :ok
          end
      end
    end)
  end
end
