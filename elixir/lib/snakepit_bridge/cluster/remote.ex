defmodule SnakepitBridge.Cluster.Remote do
  @moduledoc false
  # A call on another node's pool, over Erlang distribution: a process spawned (and monitored)
  # on that node calls `Snakepit.execute/3` or `Snakepit.execute_stream/4` there and sends the
  # caller its pid, each chunk, then the answer. Messages from one process arrive in the order
  # sent, and before its `:DOWN`, so chunks reach the callback in order, on the caller's node,
  # before the answer. What the remote call answers is returned as it is (the same
  # %Snakepit.Error{} and Snakepit.Error.* structs as a local call), and what it raises is
  # raised again here.
  #
  # The process is started with `:erlang.spawn_request/5`, which does not wait for the other
  # node (`spawn_monitor/4` does: on a node that is connected but frozen it blocks until the
  # connection times out, a minute later). A spawn that fails is `{:not_started, reason}`:
  # nothing ran, and the caller may choose another member.
  #
  # The caller waits at most the call's own timeout (snakepit's defaults when none is given)
  # plus a margin for the remote pool to answer its own timeout first; past it the remote
  # process is killed (or its spawn abandoned). The node going down ends the wait at once (the
  # monitor's `:noconnection`). Replies go to an alias, deactivated when the call returns, so
  # nothing that arrives late lands in the caller's mailbox.

  # snakepit v0.13's defaults for `:timeout` (lib/snakepit.ex execute/3, execute_stream/4).
  @default_timeout %{execute: 60_000, stream: 300_000}
  @margin 5_000

  @doc false
  # `{:not_started, reason}` when the process could not be started on `node`; otherwise what
  # the call answers there, or `{:error, %Snakepit.Error{}}` naming the node.
  def run(node, kind, tool, args, opts, callback, pool) do
    reply_to = :erlang.alias()
    request = {kind, tool, args, opts}

    monitor =
      :erlang.spawn_request(node, __MODULE__, :serve, [self(), reply_to, request], [
        :monitor,
        {:reply, :error_only}
      ])

    deadline =
      case Keyword.get(opts, :timeout, @default_timeout[kind]) do
        :infinity -> :infinity
        ms -> System.monotonic_time(:millisecond) + ms + @margin
      end

    call = %{
      reply_to: reply_to,
      monitor: monitor,
      pid: nil,
      deadline: deadline,
      callback: callback,
      where: %{node: node, pool: pool, tool: tool}
    }

    try do
      await(call)
    after
      :erlang.unalias(reply_to)
    end
  end

  defp await(%{reply_to: reply_to, monitor: monitor} = call) do
    receive do
      {^reply_to, :started, pid} ->
        await(%{call | pid: pid})

      {^reply_to, :chunk, chunk} ->
        chunk(call, chunk)
        await(call)

      {^reply_to, :answer, answer} ->
        Process.demonitor(monitor, [:flush])
        answer

      {^reply_to, :raised, kind, reason, stacktrace} ->
        Process.demonitor(monitor, [:flush])
        :erlang.raise(kind, reason, stacktrace)

      {:spawn_reply, ^monitor, :error, reason} ->
        {:not_started, reason}

      {:DOWN, ^monitor, :process, _pid, reason} ->
        {:error, down_error(reason, call.where)}
    after
      remaining(call.deadline) ->
        stop(call)
        where = call.where

        {:error,
         Snakepit.Error.timeout_error(
           "tool `#{where.tool}` on pool #{inspect(where.pool)} of node #{where.node} did " <>
             "not answer within its timeout (plus #{@margin} ms); the call was stopped there",
           where
         )}
    end
  end

  # A callback that raises ends the remote stream too, as it ends a local one.
  defp chunk(call, chunk) do
    call.callback.(chunk)
  catch
    kind, reason ->
      stop(call)
      :erlang.raise(kind, reason, __STACKTRACE__)
  end

  defp stop(%{pid: nil, monitor: monitor}) do
    # Not known to have started: the spawn is abandoned. Should it start after all, it runs
    # with no one to answer (its messages go to a deactivated alias, and are dropped).
    _ = :erlang.spawn_request_abandon(monitor)
    Process.demonitor(monitor, [:flush])
  end

  defp stop(%{pid: pid, monitor: monitor}) do
    Process.exit(pid, :kill)
    Process.demonitor(monitor, [:flush])
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
  def serve(caller, reply_to, {kind, tool, args, opts}) do
    monitor = Process.monitor(caller)
    send(reply_to, {reply_to, :started, self()})

    callback = fn chunk ->
      receive do
        {:DOWN, ^monitor, :process, _, _} -> exit(:normal)
      after
        0 -> send(reply_to, {reply_to, :chunk, chunk})
      end
    end

    try do
      answer =
        case kind do
          :execute -> Snakepit.execute(tool, args, opts)
          :stream -> Snakepit.execute_stream(tool, args, callback, opts)
        end

      send(reply_to, {reply_to, :answer, answer})
    catch
      kind, reason -> send(reply_to, {reply_to, :raised, kind, reason, __STACKTRACE__})
    end
  end
end
