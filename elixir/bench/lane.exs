# What the Unix-socket lane saves: `Snakepit.execute/3` to the Rust showcase worker on the lane
# (`SnakepitBridge.Adapter`'s default), the same worker over snakepit's own gRPC client
# (`transport: :grpc`), and the floor worker (bench/raw_worker.rs: a hand-written raw tonic
# worker that answers every tool as `ping` pastes its `message`), in real snakepit pools; then
# the transport alone (the adapter's call on a connected worker) for both lanes, and the floor
# of `Snakepit.execute/3` itself (an adapter that answers without any worker call).
#
#   cargo build --release --example showcase_worker --example raw_worker
#   source /tmp/snakepit-vendor/snakepit-0.13.0/env.sh
#   cd elixir && SNAKEPIT_BRIDGE_SHOWCASE_WORKER=../target/release/examples/showcase_worker \
#     LANE_BENCH_RAW_WORKER=../target/release/examples/raw_worker MIX_ENV=test mix run bench/lane.exs
#
# Variants run interleaved, in rounds, in a rotating order, so that drift on the machine
# touches every variant alike; per-round medians are printed too, since on 2 cores a pool's
# round trip is bimodal. Environment: LANE_BENCH_ROUNDS (10), LANE_BENCH_CALLS (300 calls per
# variant and round), LANE_BENCH_SECONDS (2 s per throughput run), LANE_BENCH_RUNS (4 runs per
# variant).

Code.require_file("support/pool_bench.exs", __DIR__)

alias SnakepitBridge.Test.{RealShowcaseAdapter, RealShowcaseGrpcAdapter, RealSnakepit}

defmodule LaneBench.RawAdapter do
  @moduledoc "bench/raw_worker.rs under snakepit (over gRPC: it offers no lane)."
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, transport: :grpc
end

defmodule LaneBench.NullAdapter do
  @moduledoc """
  The floor of `Snakepit.execute/3`: a worker is launched and connected as usual, but every
  call is answered by the adapter at once, without reaching it: what is left is snakepit's
  pool, its GRPCWorker and their processes.
  """
  @behaviour Snakepit.Adapter
  @impl true
  defdelegate executable_path, to: LaneBench.RawAdapter
  @impl true
  defdelegate script_args, to: LaneBench.RawAdapter
  @impl true
  defdelegate script_path, to: SnakepitBridge.Adapter
  @impl true
  defdelegate command_timeout(command, args), to: SnakepitBridge.Adapter
  defdelegate uses_grpc?, to: SnakepitBridge.Adapter
  defdelegate get_port, to: SnakepitBridge.Adapter
  defdelegate init_grpc_connection(port), to: LaneBench.RawAdapter

  def grpc_execute(_connection, _session, _command, _args, _timeout, _opts \\ []),
    do: {:ok, %{"message" => "pong"}}
end

env_int = fn name, default -> String.to_integer(System.get_env(name, "#{default}")) end
rounds = env_int.("LANE_BENCH_ROUNDS", 10)
calls = env_int.("LANE_BENCH_CALLS", 300)
seconds = env_int.("LANE_BENCH_SECONDS", 2)
runs = env_int.("LANE_BENCH_RUNS", 4)
callers = 16

raw_worker =
  System.get_env("LANE_BENCH_RAW_WORKER") ||
    raise "LANE_BENCH_RAW_WORKER: the raw_worker example (cargo build --release --example raw_worker)"

Logger.configure(level: :warning)
RealSnakepit.configure_workers!()
Application.put_env(:snakepit_bridge, LaneBench.RawAdapter, executable: Path.expand(raw_worker))

pool = fn name, adapter, size ->
  SnakepitBridge.pool_config(name, adapter: adapter, pool_size: size)
end

pools = [
  pool.(:lane1, RealShowcaseAdapter, 1),
  pool.(:grpc1, RealShowcaseGrpcAdapter, 1),
  pool.(:floor1, LaneBench.RawAdapter, 1),
  pool.(:null1, LaneBench.NullAdapter, 1),
  pool.(:lane2, RealShowcaseAdapter, 2),
  pool.(:grpc2, RealShowcaseGrpcAdapter, 2),
  pool.(:floor2, LaneBench.RawAdapter, 2)
]

:ok = RealSnakepit.start_pools(pools)

connection = fn pool ->
  [worker_id] = RealSnakepit.workers(pool)
  {:ok, pid} = Snakepit.Pool.Registry.get_worker_pid(worker_id)
  state = :sys.get_state(pid)
  {state.connection, state.session_id}
end

{lane_connection, lane_session} = connection.(:lane1)
{grpc_connection, grpc_session} = connection.(:grpc1)
{floor_connection, floor_session} = connection.(:floor1)
%{lane: lane} = lane_connection

payload = String.duplicate("x", 65_536)
ping = fn pool -> fn -> Snakepit.execute("ping", %{"message" => "m"}, pool_name: pool) end end

echo = fn pool ->
  fn -> Snakepit.execute("ping", %{"message" => payload}, pool_name: pool) end
end

adapter = SnakepitBridge.Adapter
python = Snakepit.Adapters.GRPCPython

latency = [
  {"ping, lane", ping.(:lane1)},
  {"ping, snakepit gRPC", ping.(:grpc1)},
  {"ping, floor worker (gRPC)", ping.(:floor1)},
  {"ping, no worker call (Snakepit.execute floor)", ping.(:null1)},
  {"64 KiB echo, lane", echo.(:lane1)},
  {"64 KiB echo, snakepit gRPC", echo.(:grpc1)},
  {"64 KiB echo, floor worker (gRPC)", echo.(:floor1)},
  {"transport: ping, lane",
   fn ->
     adapter.grpc_execute(lane_connection, lane_session, "ping", %{"message" => "m"}, 5_000, [])
   end},
  {"transport: ping, snakepit gRPC",
   fn ->
     python.grpc_execute(grpc_connection, grpc_session, "ping", %{"message" => "m"}, 5_000, [])
   end},
  {"transport: ping, floor worker (gRPC)",
   fn ->
     python.grpc_execute(floor_connection, floor_session, "ping", %{"message" => "m"}, 5_000, [])
   end},
  {"transport: 64 KiB echo, lane",
   fn ->
     SnakepitBridge.Lane.execute(lane, lane_session, "ping", %{"message" => payload}, 5_000, [])
   end},
  {"transport: 64 KiB echo, snakepit gRPC",
   fn ->
     python.grpc_execute(
       grpc_connection,
       grpc_session,
       "ping",
       %{"message" => payload},
       5_000,
       []
     )
   end}
]

for {name, fun} <- latency, _ <- 1..100 do
  case fun.() do
    {:ok, _} -> :ok
    other -> raise "#{name}: #{inspect(other)}"
  end
end

median = &SnakepitBridge.Bench.median/1

percentile = fn sorted, p ->
  Enum.at(sorted, min(length(sorted) - 1, floor(p * length(sorted))))
end

{samples, round_medians} =
  Enum.reduce(1..rounds, {%{}, %{}}, fn round, {acc, medians} ->
    shift = rem(round, length(latency))
    order = Enum.drop(latency, shift) ++ Enum.take(latency, shift)

    Enum.reduce(order, {acc, medians}, fn {name, fun}, {acc, medians} ->
      times =
        for _ <- 1..calls do
          {us, {:ok, _}} = :timer.tc(fun)
          us
        end

      {Map.update(acc, name, times, &(times ++ &1)),
       Map.update(medians, name, [median.(times)], &(&1 ++ [median.(times)]))}
    end)
  end)

IO.puts("\n## Latency, one call in flight (#{rounds} rounds x #{calls} calls per variant)\n")
IO.puts("| variant | median µs | p90 µs | p99 µs | median of each round (µs) |")
IO.puts("|---|---:|---:|---:|---|")

for {name, _} <- latency do
  sorted = Enum.sort(samples[name])

  IO.puts(
    "| #{name} | #{percentile.(sorted, 0.5)} | #{percentile.(sorted, 0.9)} | " <>
      "#{percentile.(sorted, 0.99)} | #{Enum.join(round_medians[name], " ")} |"
  )
end

ratio = fn a, b ->
  Float.round(
    percentile.(Enum.sort(samples[a]), 0.5) / percentile.(Enum.sort(samples[b]), 0.5),
    3
  )
end

IO.puts("")

IO.puts(
  "- transport, lane / snakepit gRPC (ping): #{ratio.("transport: ping, lane", "transport: ping, snakepit gRPC")}"
)

IO.puts(
  "- transport, lane / snakepit gRPC (64 KiB): #{ratio.("transport: 64 KiB echo, lane", "transport: 64 KiB echo, snakepit gRPC")}"
)

IO.puts(
  "- Snakepit.execute, lane / snakepit gRPC (ping): #{ratio.("ping, lane", "ping, snakepit gRPC")}"
)

IO.puts(
  "- Snakepit.execute, lane / floor worker (ping): #{ratio.("ping, lane", "ping, floor worker (gRPC)")}"
)

IO.puts(
  "- Snakepit.execute, lane / snakepit gRPC (64 KiB): #{ratio.("64 KiB echo, lane", "64 KiB echo, snakepit gRPC")}"
)

throughput = [
  {"lane (pool of 2)", ping.(:lane2)},
  {"snakepit gRPC (pool of 2)", ping.(:grpc2)},
  {"floor worker, gRPC (pool of 2)", ping.(:floor2)}
]

run = fn fun -> SnakepitBridge.Bench.calls_per_second(fun, callers, seconds) end

for {_, fun} <- throughput, do: run.(fun)

rates =
  Enum.reduce(1..runs, %{}, fn round, acc ->
    shift = rem(round, length(throughput))

    (Enum.drop(throughput, shift) ++ Enum.take(throughput, shift))
    |> Enum.reduce(acc, fn {name, fun}, acc ->
      rate = run.(fun)
      Map.update(acc, name, [rate], &(&1 ++ [rate]))
    end)
  end)

IO.puts(
  "\n## Throughput, #{callers} callers, `ping` (#{seconds} s per run, #{runs} runs per variant)\n"
)

IO.puts("| variant | median calls/s | each run |")
IO.puts("|---|---:|---|")

for {name, _} <- throughput do
  IO.puts(
    "| #{name} | #{round(median.(rates[name]))} | #{Enum.map_join(rates[name], " ", &round/1)} |"
  )
end

IO.puts(
  "\n- lane / snakepit gRPC: #{Float.round(median.(rates["lane (pool of 2)"]) / median.(rates["snakepit gRPC (pool of 2)"]), 2)}x"
)

_ = Application.stop(:snakepit)
