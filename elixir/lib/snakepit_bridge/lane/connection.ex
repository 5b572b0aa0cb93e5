defmodule SnakepitBridge.Lane.Connection do
  @moduledoc """
  One worker's lane connection (see `SnakepitBridge.Lane`): the process that opens the Unix
  socket, says hello and owns it, as long as its owner (snakepit's GRPCWorker) lives; when the
  owner goes, the socket closes and the worker drops whatever was under way on it.

  Calls do not pass through this process: a caller writes its frame and reads the answer on
  the (passive) socket itself, which saves two process hops a call. One caller at a time holds
  the socket (`with_socket/3`; snakepit's GRPCWorker runs one call at a time per worker
  anyway), and frames carry call ids, so that a frame of an earlier call (one that timed out,
  or a stream that was halted) is recognised and skipped by the next reader.
  """

  use GenServer

  @hello_timeout 1_000
  @version 1

  @typedoc "What callers need: the socket and the table that holds its lock."
  @type handle :: %{socket: :gen_tcp.socket(), lock: :ets.tid()}

  @doc false
  @spec start(String.t(), non_neg_integer(), pid()) ::
          {:ok, pid(), handle()} | {:error, term()}
  def start(path, port, owner) do
    with {:ok, pid} <- GenServer.start(__MODULE__, {path, port, owner}) do
      {:ok, pid, GenServer.call(pid, :handle)}
    end
  end

  @doc """
  Runs `fun.(socket)` holding the socket, waiting (until `deadline`, a monotonic time in ms or
  `:infinity`) while another caller holds it; a holder that died is passed over. `:timeout`
  when the socket did not come free in time, `:closed` when the lane is gone, `:busy` when a
  holder that died left a read on the socket that has not had its frame yet.
  """
  @spec with_socket(handle(), integer() | :infinity, (:gen_tcp.socket() -> result)) ::
          result | :timeout | :closed
        when result: term()
  def with_socket(%{socket: socket, lock: lock}, deadline, fun) do
    case acquire(lock, deadline) do
      :ok ->
        try do
          with :ok <- checked(socket, lock), do: fun.(socket)
        after
          release(lock)
        end

      other ->
        other
    end
  end

  # After a holder died: a read it left behind takes the next frame that arrives (any other
  # read is refused with :ealready meanwhile), so a call sent now would lose its answer. Until
  # that read has its frame, calls are not sent (`:busy`: they go over gRPC); a frame already
  # waiting is an earlier call's, which no one waits for.
  defp checked(socket, lock) do
    if :ets.member(lock, :check) do
      case :gen_tcp.recv(socket, 0, 0) do
        {:error, :ealready} ->
          :busy

        _timeout_or_stale_frame ->
          :ets.delete(lock, :check)
          :ok
      end
    else
      :ok
    end
  end

  @doc "Closes the lane (its socket is unusable): later calls find it gone."
  @spec close(pid()) :: :ok
  def close(lane) do
    send(lane, :close)
    :ok
  end

  defp acquire(lock, deadline) do
    if :ets.insert_new(lock, {:holder, self()}) do
      :ok
    else
      case :ets.lookup(lock, :holder) do
        [{:holder, holder}] ->
          if Process.alive?(holder) do
            wait_then_acquire(lock, deadline)
          else
            # The holder may have died in a read, which the socket's driver keeps until the
            # next frame arrives: the next holder looks before it sends (checked/1).
            :ets.insert(lock, {:check, true})
            :ets.delete_object(lock, {:holder, holder})
            acquire(lock, deadline)
          end

        [] ->
          acquire(lock, deadline)
      end
    end
  rescue
    # The table went with the connection process: the lane is gone.
    ArgumentError -> :closed
  end

  defp wait_then_acquire(lock, deadline) do
    if deadline != :infinity and System.monotonic_time(:millisecond) >= deadline do
      :timeout
    else
      Process.sleep(1)
      acquire(lock, deadline)
    end
  end

  defp release(lock) do
    :ets.delete_object(lock, {:holder, self()})
  rescue
    ArgumentError -> true
  end

  @impl true
  def init({path, port, owner}) do
    opts = [:binary, packet: 4, active: false, send_timeout: 5_000]

    with {:ok, socket} <- :gen_tcp.connect({:local, path}, 0, opts, @hello_timeout),
         :ok <- hello(socket, port) do
      Process.monitor(owner)
      lock = :ets.new(__MODULE__, [:set, :public, write_concurrency: true])
      {:ok, %{socket: socket, lock: lock}}
    else
      {:error, reason} -> {:stop, reason}
    end
  end

  defp hello(socket, port) do
    with :ok <- :gen_tcp.send(socket, [<<0::64>>, :erlang.term_to_binary({:hello, @version})]),
         {:ok, <<0::64, body::binary>>} <- :gen_tcp.recv(socket, 0, @hello_timeout) do
      case :erlang.binary_to_term(body, [:safe]) do
        {:hello, @version, ^port} -> :ok
        other -> {:error, {:unexpected_hello, other}}
      end
    else
      {:ok, _other_frame} -> {:error, :unexpected_hello}
      {:error, reason} -> {:error, reason}
    end
  rescue
    ArgumentError -> {:error, :unexpected_hello}
  end

  @impl true
  def handle_call(:handle, _from, state),
    do: {:reply, %{socket: state.socket, lock: state.lock}, state}

  @impl true
  # The owner (snakepit's GRPCWorker) is gone: so is the lane.
  def handle_info({:DOWN, _ref, :process, _pid, _reason}, state), do: {:stop, :normal, state}
  def handle_info(:close, state), do: {:stop, :normal, state}
  def handle_info(_other, state), do: {:noreply, state}
end
