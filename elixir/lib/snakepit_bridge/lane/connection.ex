defmodule SnakepitBridge.Lane.Connection do
  @moduledoc """
  One worker's lane connection (see `SnakepitBridge.Lane`): a process that owns the Unix
  socket, writes each caller's frame with a call id of its own and hands every frame the
  worker answers to the caller of that call, tagged with the monitor the caller holds on this
  process (so that a caller also learns when the lane goes).

  It lives as long as its owner (snakepit's GRPCWorker). A caller that stops waiting (a
  timeout, a halted stream) or exits gets its call cancelled on the worker; when the worker
  closes the socket (it died, or is stopping), the process stops and every caller waiting on
  it gets its `:DOWN`.
  """

  use GenServer

  @hello_timeout 1_000
  @version 1

  @doc false
  @spec start(String.t(), non_neg_integer(), pid()) :: {:ok, pid()} | {:error, term()}
  def start(path, port, owner) do
    GenServer.start(__MODULE__, {path, port, owner})
  end

  @doc """
  Sends one call (a term already encoded) and returns the reference its frames come tagged
  with: `{ref, body}` for each frame, `{:DOWN, ref, ...}` when the lane goes.
  """
  @spec call(pid(), binary()) :: reference()
  def call(lane, term) do
    ref = Process.monitor(lane)
    send(lane, {:call, self(), ref, term})
    ref
  end

  @doc "The call of `ref` got its last frame."
  @spec done(pid(), reference()) :: :ok
  def done(lane, ref) do
    Process.demonitor(ref, [:flush])
    send(lane, {:done, ref})
    :ok
  end

  @doc "The caller of `ref` stops waiting: the worker drops the call; frames left are flushed."
  @spec cancel(pid(), reference()) :: :ok
  def cancel(lane, ref) do
    Process.demonitor(ref, [:flush])
    send(lane, {:cancel, ref})
    flush(ref)
  end

  defp flush(ref) do
    receive do
      {^ref, _} -> flush(ref)
    after
      0 -> :ok
    end
  end

  @impl true
  def init({path, port, owner}) do
    opts = [:binary, packet: 4, active: false, send_timeout: 5_000]

    with {:ok, socket} <- :gen_tcp.connect({:local, path}, 0, opts, @hello_timeout),
         :ok <- hello(socket, port) do
      :ok = :inet.setopts(socket, active: true)
      Process.monitor(owner)
      {:ok, %{socket: socket, next_id: 1, calls: %{}, ids: %{}}}
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
    end
  end

  @impl true
  def handle_info({:call, caller, ref, term}, state) do
    id = state.next_id
    watch = Process.monitor(caller)

    case :gen_tcp.send(state.socket, [<<id::64>>, term]) do
      :ok ->
        calls = Map.put(state.calls, id, {caller, ref, watch})
        {:noreply, %{state | next_id: id + 1, calls: calls, ids: Map.put(state.ids, ref, id)}}

      {:error, reason} ->
        {:stop, {:shutdown, {:lane_send_failed, reason}}, state}
    end
  end

  def handle_info({:tcp, _socket, <<id::64, body::binary>>}, state) do
    case state.calls do
      %{^id => {caller, ref, _watch}} -> send(caller, {ref, body})
      # A call cancelled meanwhile: its late frames are dropped.
      _ -> :ok
    end

    {:noreply, state}
  end

  def handle_info({:done, ref}, state), do: {:noreply, forget(state, ref, false)}
  def handle_info({:cancel, ref}, state), do: {:noreply, forget(state, ref, true)}

  def handle_info({:DOWN, watch, :process, pid, _reason}, state) do
    case Enum.find(state.calls, fn {_id, {caller, _ref, w}} -> caller == pid and w == watch end) do
      {_id, {_caller, ref, _watch}} -> {:noreply, forget(state, ref, true)}
      # The owner (snakepit's GRPCWorker) is gone.
      nil -> {:stop, :normal, state}
    end
  end

  def handle_info({:tcp_closed, _socket}, state), do: {:stop, {:shutdown, :lane_closed}, state}

  def handle_info({:tcp_error, _socket, reason}, state),
    do: {:stop, {:shutdown, {:lane_error, reason}}, state}

  def handle_info(_other, state), do: {:noreply, state}

  defp forget(state, ref, cancel?) do
    case Map.pop(state.ids, ref) do
      {nil, _} ->
        state

      {id, ids} ->
        {{_caller, _ref, watch}, calls} = Map.pop(state.calls, id)
        Process.demonitor(watch, [:flush])

        if cancel?,
          do: :gen_tcp.send(state.socket, [<<id::64>>, :erlang.term_to_binary({:cancel})])

        %{state | calls: calls, ids: ids}
    end
  end
end
