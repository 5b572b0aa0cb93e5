defmodule SnakepitBridge.Bench do
  @moduledoc "What the pool benchmarks (bench/lane.exs, bench/telemetry.exs) measure alike."

  @doc "The middle value of `list`."
  @spec median([number()]) :: number()
  def median(list), do: list |> Enum.sort() |> then(&Enum.at(&1, div(length(&1), 2)))

  @doc """
  Calls per second of `fun` (which answers `{:ok, _}`) from `callers` processes calling it
  back to back for `seconds`.
  """
  @spec calls_per_second((-> {:ok, term()}), pos_integer(), pos_integer()) :: float()
  def calls_per_second(fun, callers, seconds) do
    stop_at = System.monotonic_time(:millisecond) + seconds * 1_000

    1..callers
    |> Enum.map(fn _ ->
      Task.async(fn ->
        Stream.repeatedly(fn -> {:ok, _} = fun.() end)
        |> Enum.reduce_while(0, fn _, count ->
          if System.monotonic_time(:millisecond) < stop_at,
            do: {:cont, count + 1},
            else: {:halt, count + 1}
        end)
      end)
    end)
    |> Enum.map(&Task.await(&1, (seconds + 30) * 1_000))
    |> Enum.sum()
    |> Kernel./(seconds)
  end
end
