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
  #     worker is connected (`connected/0`, from the adapter's init_grpc_connection/1), or
  #     when the GRPCWorker ends before, unless a successor under the same worker id has
  #     registered there since (each registration's handlers carry their owner).
  #
  # The real-snakepit suite (test/real_snakepit/elixir_tools_test.exs, lifecycle_test.exs)
  # checks both sessions in running pools, and that a replaced worker's tools go with it.

  alias SnakepitBridge.ElixirTools

  @doc """
  Called from the adapter's `executable_path/0`: registers the pool's tools for the worker
  being started. Does nothing outside a GRPCWorker's start or for a pool without tools.
  """
  def starting do
    case current_worker() do
      {:ok, worker} ->
        case pool_tools(worker.pool_name) do
          [] -> :ok
          modules -> register_for(worker, modules)
        end

      :error ->
        :ok

      {:unknown_pool, worker_id} ->
        # In a GRPCWorker, but snakepit did not say which pool: fail loudly if any pool
        # expects tools, rather than start workers without them.
        if Enum.any?(configured_pools(), &(Map.get(&1, :elixir_tools, []) != [])) do
          raise ArgumentError,
                "snakepit_bridge: cannot tell which pool worker #{worker_id} belongs to (no " <>
                  ":pool_identifier in Snakepit.Pool.Registry), so its pool's elixir_tools " <>
                  "cannot be registered; this needs snakepit 0.13"
        end

        :ok
    end
  end

  @doc false
  # Registers `modules` for `worker` (%{worker_id, pool_name, session_id}), released when the
  # calling process ends; public for the real-snakepit suite's stand-ins of a GRPCWorker.
  def register_for(worker, modules) do
    startup = startup_session(worker.worker_id)
    owner = make_ref()
    registrations = ElixirTools.registrations(modules, owner)
    # Watching first: whatever happens from here, the GRPCWorker's end releases what it took.
    release_on_exit(self(), worker.session_id, startup, registrations)
    # A worker restarted under the same id finds its predecessor's start-up tools; the same
    # GRPCWorker asked twice finds its own.
    for session <- [startup, worker.session_id], do: ElixirTools.unregister(session)

    for session <- [worker.session_id, startup] do
      case ElixirTools.register_all(session, registrations) do
        :ok ->
          :ok

        {:error, message} ->
          raise ArgumentError,
                "snakepit_bridge: pool #{inspect(worker.pool_name)}, worker " <>
                  "#{worker.worker_id}: #{message}"
      end
    end

    :ok
  end

  @doc "Called from the adapter's `init_grpc_connection/1`: the start-up session is over."
  def connected do
    with {:ok, worker} <- current_worker(),
         [_ | _] <- pool_tools(worker.pool_name) do
      # This GRPCWorker is the one that registered them: no successor runs beside it.
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
    case Enum.find(configured_pools(), &(Map.get(&1, :name) == pool_name)) do
      nil -> []
      config -> Map.get(config, :elixir_tools, [])
    end
  end

  defp configured_pools do
    case Application.get_env(:snakepit, :pools) do
      pools when is_list(pools) -> Enum.filter(pools, &is_map/1)
      _ -> []
    end
  end

  @doc """
  The GRPCWorker starting in this process: `{:ok, %{worker_id, pool_name, session_id}}`,
  `{:unknown_pool, worker_id}` when snakepit does not say its pool, or `:error` outside a
  GRPCWorker. The worker and session ids are snakepit's Logger metadata; the pool's
  configured name is the `:pool_identifier` the worker registered under in
  `Snakepit.Pool.Registry` before its init went on (bootstrap.ex init/1; the Logger
  metadata's `:pool_name` is the pool process's name, `Snakepit.Pool`).
  """
  def current_worker do
    metadata = Logger.metadata()

    with worker_id when is_binary(worker_id) <- metadata[:worker_id],
         session_id when is_binary(session_id) <- metadata[:session_id] do
      case Snakepit.Pool.Registry.get_worker_metadata(worker_id) do
        {:ok, %{pool_identifier: pool}} when is_atom(pool) and not is_nil(pool) ->
          {:ok, %{worker_id: worker_id, pool_name: pool, session_id: session_id}}

        _ ->
          {:unknown_pool, worker_id}
      end
    else
      _ -> :error
    end
  end

  defp release_on_exit(worker_pid, session_id, startup, registrations) do
    [{probe, handler, _metadata} | _] = registrations

    spawn(fn ->
      ref = Process.monitor(worker_pid)

      receive do
        {:DOWN, ^ref, :process, _pid, _reason} ->
          # snakepit may be stopping, with its ToolRegistry gone.
          try do
            ElixirTools.unregister(session_id)

            # The start-up session's id outlives the worker: release it only if the tools
            # there are still this worker's.
            case Snakepit.Bridge.ToolRegistry.get_tool(startup, probe) do
              {:ok, %{handler: ^handler}} -> ElixirTools.unregister(startup)
              _ -> :ok
            end
          catch
            :exit, _ -> :ok
          end
      end
    end)
  end
end
