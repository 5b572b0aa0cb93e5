# What the Rust worker's telemetry costs a real snakepit pool on snakepit's gRPC lane
# (issue 26 item 4): `Snakepit.execute/3` of `ping` to the showcase worker with its telemetry on
# (as snakepit starts it: one `tool.execution.stop` a call), the same worker with its telemetry
# toggled off (`Snakepit.Telemetry.GrpcStream.toggle/2`), and the floor worker
# (bench/raw_worker.rs: a hand-written raw tonic worker that sends no events), all driven over
# snakepit's own gRPC client; optionally a worker binary of an earlier commit beside them
# (TELEMETRY_BENCH_BEFORE=path, e.g. one that sent three events a call), measured in the same run.
#
#   cargo build --release --example showcase_worker --example raw_worker
#   source /tmp/snakepit-vendor/snakepit-0.13.0/env.sh
#   cd elixir && SNAKEPIT_BRIDGE_SHOWCASE_WORKER=../target/release/examples/showcase_worker \
#     LANE_BENCH_RAW_WORKER=../target/release/examples/raw_worker MIX_ENV=test \
#     mix run bench/telemetry.exs
#
# On 2 cores a pool's round trip is bimodal (a fast mode, and a slow, spread one while the
# BEAM's schedulers are kept busy): each round's median is printed, and how many rounds of each
# variant land under TELEMETRY_BENCH_FAST_US (650 µs). Variants run interleaved, in rounds, in a
# rotating order. Throughput: 16 callers on pools of 2. Environment: TELEMETRY_BENCH_ROUNDS
# (30), TELEMETRY_BENCH_CALLS (300 calls per variant and round), TELEMETRY_BENCH_SECONDS (2 s
# per throughput run), TELEMETRY_BENCH_RUNS (6 runs per variant).

Code.require_file("support/pool_bench.exs", __DIR__)

alias SnakepitBridge.Test.{RealShowcaseGrpcAdapter, RealSnakepit}

defmodule TelemetryBench.OffAdapter do
  @moduledoc "The showcase worker over gRPC, its telemetry toggled off once it is up."
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, transport: :grpc
end

defmodule TelemetryBench.RawAdapter do
  @moduledoc "bench/raw_worker.rs under snakepit (over gRPC: it offers no lane)."
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, transport: :grpc
end

defmodule TelemetryBench.BeforeAdapter do
  @moduledoc "A worker binary of an earlier commit (TELEMETRY_BENCH_BEFORE), over gRPC."
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, transport: :grpc
end

env_int = fn name, default -> String.to_integer(System.get_env(name, "#{default}")) end
rounds = env_int.("TELEMETRY_BENCH_ROUNDS", 30)
calls = env_int.("TELEMETRY_BENCH_CALLS", 300)
seconds = env_int.("TELEMETRY_BENCH_SECONDS", 2)
runs = env_int.("TELEMETRY_BENCH_RUNS", 6)
fast_us = env_int.("TELEMETRY_BENCH_FAST_US", 650)
callers = 16

raw_worker =
  System.get_env("LANE_BENCH_RAW_WORKER") ||
    raise "LANE_BENCH_RAW_WORKER: the raw_worker example (cargo build --release --example raw_worker)"

before = System.get_env("TELEMETRY_BENCH_BEFORE")

Logger.configure(level: :warning)
RealSnakepit.configure_workers!()

Application.put_env(:snakepit_bridge, TelemetryBench.RawAdapter,
  executable: Path.expand(raw_worker)
)

Application.put_env(:snakepit_bridge, TelemetryBench.OffAdapter,
  executable: Application.fetch_env!(:snakepit_bridge, RealShowcaseGrpcAdapter)[:executable]
)

if before do
  Application.put_env(:snakepit_bridge, TelemetryBench.BeforeAdapter,
    executable: Path.expand(before)
  )
end

variants =
  [
    {"Rust worker, telemetry on", :on, RealShowcaseGrpcAdapter},
    {"Rust worker, telemetry off", :off, TelemetryBench.OffAdapter},
    {"floor worker", :floor, TelemetryBench.RawAdapter}
  ] ++
    if(before,
      do: [{"earlier worker (#{Path.basename(before)})", :before, TelemetryBench.BeforeAdapter}],
      else: []
    )

pool = fn name, adapter, size ->
  SnakepitBridge.pool_config(name, adapter: adapter, pool_size: size)
end

pair = fn name -> :"#{name}2" end

:ok =
  RealSnakepit.start_pools(
    for {_, name, adapter} <- variants, size <- [1, 2] do
      pool.(if(size == 1, do: name, else: pair.(name)), adapter, size)
    end
  )

# A worker's telemetry stream is registered with a cast after the pool is ready, and a toggle
# sent before that is dropped: it is sent again until the worker says it is off
# (telemetry_demo's `telemetry_enabled`; a pool of 2 answers from either worker, so each
# worker is asked on its own connection).
for pool <- [:off, pair.(:off)], worker <- RealSnakepit.workers(pool) do
  {:ok, pid} = Snakepit.Pool.Registry.get_worker_pid(worker)
  %{connection: connection, session_id: session} = :sys.get_state(pid)

  RealSnakepit.poll!(10_000, "telemetry off in #{worker}", fn ->
    Snakepit.Telemetry.GrpcStream.toggle(worker, false)
    Process.sleep(50)

    case SnakepitBridge.Adapter.grpc_execute(
           connection,
           session,
           "telemetry_demo",
           %{"delay_ms" => 0},
           5_000,
           []
         ) do
      {:ok, %{"telemetry_enabled" => false}} -> {:ok, :off}
      other -> {:retry, other}
    end
  end)
end

ping = fn pool -> fn -> Snakepit.execute("ping", %{"message" => "m"}, pool_name: pool) end end
median = &SnakepitBridge.Bench.median/1

for {name, pool, _} <- variants, _ <- 1..300 do
  case ping.(pool).() do
    {:ok, _} -> :ok
    other -> raise "#{name}: #{inspect(other)}"
  end
end

round_medians =
  Enum.reduce(1..rounds, %{}, fn round, acc ->
    shift = rem(round, length(variants))

    (Enum.drop(variants, shift) ++ Enum.take(variants, shift))
    |> Enum.reduce(acc, fn {name, pool, _}, acc ->
      fun = ping.(pool)

      times =
        for _ <- 1..calls do
          {us, {:ok, _}} = :timer.tc(fun)
          us
        end

      Map.update(acc, name, [median.(times)], &(&1 ++ [median.(times)]))
    end)
  end)

floor_name = "floor worker"
floor = median.(round_medians[floor_name])

IO.puts(
  "\n## Latency, `ping`, one call in flight (#{rounds} rounds x #{calls} calls per variant)\n"
)

IO.puts(
  "| variant | median of round medians µs | vs floor | rounds under #{fast_us} µs | median of each round (µs) |"
)

IO.puts("|---|---:|---:|---:|---|")

for {name, _, _} <- variants do
  medians = round_medians[name]

  IO.puts(
    "| #{name} | #{median.(medians)} | #{Float.round(median.(medians) / floor, 2)} | " <>
      "#{Enum.count(medians, &(&1 < fast_us))}/#{length(medians)} | #{Enum.join(medians, " ")} |"
  )
end

run = fn fun -> SnakepitBridge.Bench.calls_per_second(fun, callers, seconds) end

for {_, pool, _} <- variants, do: run.(ping.(pair.(pool)))

rates =
  Enum.reduce(1..runs, %{}, fn round, acc ->
    shift = rem(round, length(variants))

    (Enum.drop(variants, shift) ++ Enum.take(variants, shift))
    |> Enum.reduce(acc, fn {name, pool, _}, acc ->
      rate = run.(ping.(pair.(pool)))
      Map.update(acc, name, [rate], &(&1 ++ [rate]))
    end)
  end)

floor_rate = median.(rates[floor_name])

IO.puts(
  "\n## Throughput, #{callers} callers on a pool of 2, `ping` (#{seconds} s per run, #{runs} runs per variant)\n"
)

IO.puts("| variant | median calls/s | vs floor | each run |")
IO.puts("|---|---:|---:|---|")

for {name, _, _} <- variants do
  IO.puts(
    "| #{name} | #{round(median.(rates[name]))} | #{Float.round(median.(rates[name]) / floor_rate, 2)} | " <>
      "#{Enum.map_join(rates[name], " ", &round/1)} |"
  )
end

_ = Application.stop(:snakepit)
