defmodule SnakepitBridge.MixProject do
  use Mix.Project

  @version "0.1.0"

  # With SNAKEPIT_BRIDGE_STANDALONE=1 the package builds and tests without snakepit (and so
  # without Hex): the tests run against stand-ins of the few snakepit functions it calls
  # (test/support/snakepit_stand_in.ex). Applications that depend on this package never set
  # it; they get the real snakepit.
  @standalone System.get_env("SNAKEPIT_BRIDGE_STANDALONE") in ["1", "true"]

  def project do
    [
      app: :snakepit_bridge,
      version: @version,
      # What both snakepit 0.13 (Elixir ~> 1.18) and Debian's Elixir 1.14 (CI) support.
      elixir: "~> 1.14",
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

  defp elixirc_paths(:test) do
    if @standalone, do: ["lib", "test/support"], else: ["lib"]
  end

  defp elixirc_paths(_env), do: ["lib"]

  defp deps do
    if @standalone do
      []
    else
      [
        {:snakepit, "~> 0.13"},
        {:ex_doc, "~> 0.34", only: :dev, runtime: false}
      ]
    end
  end
end
