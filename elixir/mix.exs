defmodule SnakepitBridge.MixProject do
  use Mix.Project

  @version "0.1.0"

  def project do
    [
      app: :snakepit_bridge,
      version: @version,
      # snakepit v0.13's own requirement.
      elixir: "~> 1.18",
      start_permanent: Mix.env() == :prod,
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: deps(),
      description:
        "Run Rust workers built with snakepit-bridge in snakepit pools, and call their tools " <>
          "through typed, documented Elixir functions generated from the worker's manifest.",
      docs: [main: "readme", extras: ["README.md"]]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_env), do: ["lib"]

  # snakepit from Hex. Where Hex cannot be reached (CI, offline machines), the one switch is
  # SNAKEPIT_VENDOR, which the offline snakepit bundle's env.sh sets: the same snakepit v0.13.0
  # and its dependencies are then taken from the bundle's sources (its deps.exs), and nothing
  # else differs. See README.md, "Without Hex".
  defp deps do
    case System.get_env("SNAKEPIT_VENDOR") do
      vendor when vendor not in [nil, ""] ->
        elem(Code.eval_file(Path.join(vendor, "deps.exs")), 0)

      _ ->
        [
          {:snakepit, "~> 0.13"},
          # snakepit's own JSON library (its mix.lock: 1.4.4), for reading manifests.
          {:jason, "~> 1.4"},
          {:ex_doc, "~> 0.34", only: :dev, runtime: false}
        ]
    end
  end
end
