defmodule SnakepitBridge.Cluster.Remote do
  @moduledoc false
  # A call on another node's pool, over Erlang distribution: a process spawned (and monitored)
  # on that node calls `Snakepit.execute/3` or `Snakepit.execute_stream/4` there and sends the
  # caller each chunk, then the answer. Messages from one process arrive in the order sent, and
  # before its `:DOWN`, so chunks reach the callback in order, on the caller's node, before the
  # answer. What the remote call answers is returned as it is (the same %Snakepit.Error{} and
  # Snakepit.Error.* structs as a local call), and what it raises is raised again here.
  #
  # The caller waits at most the call's own timeout (snakepit's defaults when none is given)
  # plus a margin for the remote pool to answer its own timeout first; past it the remote
  # process is killed. The node going down ends the wait at once (the monitor's
  # `:noconnection`).

  # snakepit v0.13's defaults for `:timeout` (lib/snakepit.ex execute/3, execute_stream/4).
  @default_timeout %{execute: 60_000, stream: 300_000}
  @margin 5_000

  @doc false
  def run(node, kind, tool, args, opts, callback, pool) do
    ref = make_ref()
    caller = self()
    request = {kind, tool, args, opts}

    {pid, monitor} = Node.spawn_monitor(node, __MODULE__, :serve, [caller, ref, request])

    deadline =
      case Keyword.get(opts, :timeout, @default_timeout[kind]) do
        :infinity -> :infinity
        ms -> System.monotonic_time(:millisecond) + ms + @margin
      end

    where = %{node: node, pool: pool, tool: tool}
    await(ref, pid, monitor, deadline, callback, where)
  end

  defp await(ref, pid, monitor, deadline, callback, where) do
    receive do
      {^ref, :chunk, chunk} ->
        chunk(callback, chunk, pid, monitor)
        await(ref, pid, monitor, deadline, callback, where)

      {^ref, :answer, answer} ->
        Process.demonitor(monitor, [:flush])
        answer

      {^ref, :raised, kind, reason, stacktrace} ->
        Process.demonitor(monitor, [:flush])
        :erlang.raise(kind, reason, stacktrace)

      {:DOWN, ^monitor, :process, _pid, reason} ->
        {:error, down_error(reason, where)}
    after
      remaining(deadline) ->
        Process.exit(pid, :kill)
        Process.demonitor(monitor, [:flush])

        {:error,
         Snakepit.Error.timeout_error(
           "tool `#{where.tool}` on pool #{inspect(where.pool)} of node #{where.node} did " <>
             "not answer within its timeout (plus #{@margin} ms); the call was stopped there",
           where
         )}
    end
  end

  # A callback that raises ends the remote stream too, as it ends a local one.
  defp chunk(callback, chunk, pid, monitor) do
    callback.(chunk)
  catch
    kind, reason ->
      Process.exit(pid, :kill)
      Process.demonitor(monitor, [:flush])
      :erlang.raise(kind, reason, __STACKTRACE__)
  end

  defp remaining(:infinity), do: :infinity
  defp remaining(deadline), do: max(deadline - System.monotonic_time(:millisecond), 0)

  defp down_error(:noconnection, where) do
    Snakepit.Error.worker_error(
      "node #{where.node} went down or could not be reached during the call of tool " <>
        "`#{where.tool}` on its pool #{inspect(where.pool)}; the call may have run there, so it " <>
        "was not sent elsewhere",
      Map.put(where, :reason, :noconnection)
    )
  end

  defp down_error(reason, where) do
    Snakepit.Error.worker_error(
      "the call of tool `#{where.tool}` on pool #{inspect(where.pool)} of node #{where.node} " <>
        "ended without an answer: #{inspect(reason, limit: 20)}",
      Map.put(where, :reason, reason)
    )
  end

  @doc false
  # Runs on the pool's node. Stops early when the caller goes away (its node down, or the
  # calling process gone): a stream is not run for no one.
  def serve(caller, ref, {kind, tool, args, opts}) do
    monitor = Process.monitor(caller)

    callback = fn chunk ->
      receive do
        {:DOWN, ^monitor, :process, _, _} -> exit(:normal)
      after
        0 -> send(caller, {ref, :chunk, chunk})
      end
    end

    try do
      answer =
        case kind do
          :execute -> Snakepit.execute(tool, args, opts)
          :stream -> Snakepit.execute_stream(tool, args, callback, opts)
        end

      send(caller, {ref, :answer, answer})
    catch
      kind, reason -> send(caller, {ref, :raised, kind, reason, __STACKTRACE__})
    end
  end
end
