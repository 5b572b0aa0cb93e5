defmodule SnakepitBridge.Cluster.Remote do
  @moduledoc false
  # A call on another node's pool, over Erlang distribution: a process spawned (and monitored)
  # on that node calls `Snakepit.execute/3` or `Snakepit.execute_stream/4` there. It sends the
  # caller its pid and the time the call may take there, then the answer. What the remote call
  # answers is returned as it is (the same %Snakepit.Error{} and Snakepit.Error.* structs as a
  # local call), and what it raises is raised again here.
  #
  # A stream's chunks are sent by snakepit's own process for the call (its RPC task), one at a
  # time: each waits for the caller's reply, which is what the caller's callback returned
  # (`:halt`, `{:halt, reason}`, anything else to go on; an exception it raised as the
  # `{:halt, {:callback_exception, e, stacktrace}}` snakepit makes of it locally,
  # lib/snakepit/adapters/grpc_python.ex deliver_chunk/2). So chunks reach the callback in
  # order, on the caller's node, all before the answer; the stream goes at the pace of the
  # callback; and it ends when the caller goes away.
  #
  # The process is started with `:erlang.spawn_request/5`, which does not wait for the other
  # node (`spawn_monitor/4` does: on a node that is connected but frozen it blocks until the
  # connection times out). A spawn refused outright (`badopt`, `notsup`, `system_limit`) is
  # `{:not_started, reason}`: nothing ran, and the caller may choose another member. One that
  # fails with `noconnection` may have started (OTP's documentation of spawn_request/5): an
  # error.
  #
  # The caller waits at most what the call may take on the serving node (its `:timeout`, or
  # that node's snakepit defaults; a stream's checkout time on top) plus a margin for the
  # pool to answer its own timeout first; past it the remote process is killed (or its spawn
  # abandoned). The node going down ends the wait as soon as the distribution connection
  # drops. Replies go to an alias, deactivated and flushed when the call returns, so nothing
  # lands in the caller's mailbox afterwards.

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

    call = %{
      reply_to: reply_to,
      monitor: monitor,
      pid: nil,
      # Until the serving node says how long the call may take there: this node's view.
      deadline: deadline(budget(kind, opts)),
      callback: callback,
      where: %{node: node, pool: pool, tool: tool}
    }

    try do
      await(call)
    after
      :erlang.unalias(reply_to)
      flush(reply_to)
    end
  end

  defp await(%{reply_to: reply_to, monitor: monitor} = call) do
    receive do
      {^reply_to, :started, pid, budget} ->
        await(%{call | pid: pid, deadline: deadline(budget)})

      {^reply_to, :chunk, chunk, ack} ->
        send(ack, {ack, deliver(call, chunk)})
        await(call)

      {^reply_to, :answer, answer} ->
        Process.demonitor(monitor, [:flush])
        answer

      {^reply_to, :raised, kind, reason, stacktrace} ->
        Process.demonitor(monitor, [:flush])
        :erlang.raise(kind, reason, stacktrace)

      {:spawn_reply, ^monitor, :error, reason} when reason in [:badopt, :notsup, :system_limit] ->
        {:not_started, reason}

      {:spawn_reply, ^monitor, :error, reason} ->
        {:error, down_error(reason, call.where)}

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
           Map.put(where, :command, where.tool)
         )}
    end
  end

  # The caller's callback on one chunk, and the reply the stream goes on with, as snakepit's
  # deliver_chunk/2 makes it of the callback's return. Other than an exception (a throw, an
  # exit) ends the remote stream and goes on in the caller, as it would locally.
  defp deliver(call, chunk) do
    call.callback.(chunk)
  rescue
    exception -> {:halt, {:callback_exception, exception, __STACKTRACE__}}
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

  # What arrived before the alias was deactivated.
  defp flush(reply_to) do
    receive do
      message when elem(message, 0) == reply_to -> flush(reply_to)
    after
      0 -> :ok
    end
  end

  defp deadline(:infinity), do: :infinity
  defp deadline(budget), do: System.monotonic_time(:millisecond) + budget + @margin

  defp remaining(:infinity), do: :infinity
  defp remaining(deadline), do: max(deadline - System.monotonic_time(:millisecond), 0)

  # How long a call may take in this node's snakepit: its `:timeout`, or the pool's defaults
  # (Snakepit.Pool.execute/3 and execute_stream/4, lib/snakepit/pool/pool.ex), a stream's
  # worker checkout on top.
  @doc false
  def budget(:execute, opts),
    do: Keyword.get(opts, :timeout) || Snakepit.Defaults.pool_request_timeout()

  def budget(:stream, opts) do
    case Keyword.get(opts, :timeout) || Snakepit.Defaults.pool_streaming_timeout() do
      :infinity ->
        :infinity

      timeout ->
        timeout + (Keyword.get(opts, :checkout_timeout) || Snakepit.Defaults.checkout_timeout())
    end
  end

  defp down_error(reason, where) when reason in [:noconnection, :noproc] do
    Snakepit.Error.worker_error(
      "node #{where.node} went down or could not be reached during the call of tool " <>
        "`#{where.tool}` on its pool #{inspect(where.pool)}; the call may have run there, so it " <>
        "was not sent elsewhere",
      Map.merge(where, %{reason: reason, command: where.tool})
    )
  end

  defp down_error(reason, where) do
    Snakepit.Error.worker_error(
      "the call of tool `#{where.tool}` on pool #{inspect(where.pool)} of node #{where.node} " <>
        "ended without an answer: #{inspect(reason, limit: 20)}",
      Map.merge(where, %{reason: reason, command: where.tool})
    )
  end

  @doc false
  # Runs on the pool's node.
  def serve(caller, reply_to, {kind, tool, args, opts}) do
    budget = budget(kind, opts)
    send(reply_to, {reply_to, :started, self(), budget})

    try do
      callback = if kind == :stream, do: chunk_sender(caller, reply_to, budget)
      answer = SnakepitBridge.Cluster.local(kind, tool, args, opts, callback)
      send(reply_to, {reply_to, :answer, answer})
    catch
      kind, reason -> send(reply_to, {reply_to, :raised, kind, reason, __STACKTRACE__})
    end
  end

  # The stream's callback, run by snakepit's process for the call: one chunk to the caller,
  # and its reply back to snakepit.
  defp chunk_sender(caller, reply_to, budget) do
    deadline = deadline(budget)

    fn chunk ->
      ack = :erlang.alias([:reply])
      watch = Process.monitor(caller)
      send(reply_to, {reply_to, :chunk, chunk, ack})

      receive do
        {^ack, reply} ->
          Process.demonitor(watch, [:flush])
          reply

        {:DOWN, ^watch, :process, _, reason} ->
          :erlang.unalias(ack)
          {:halt, {:caller_down, reason}}
      after
        remaining(deadline) ->
          :erlang.unalias(ack)
          Process.demonitor(watch, [:flush])
          {:halt, :caller_timeout}
      end
    end
  end
end
