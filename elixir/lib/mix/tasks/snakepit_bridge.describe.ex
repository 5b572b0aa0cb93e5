defmodule Mix.Tasks.SnakepitBridge.Describe do
  @shortdoc "Writes a Rust worker's tool manifest (EXE --snakepit-describe)"
  @moduledoc """
  Writes the tool manifest of a worker binary, as it prints it with `--snakepit-describe`.

      mix snakepit_bridge.describe -o priv/showcase_tools.json -- target/release/examples/showcase_worker

  Everything after `--` is the worker's command line (the executable, then its arguments).
  Without it, the application-wide worker is used: `config :snakepit_bridge, executable: ...,
  args: [...]`.

  Options:

    * `-o`, `--output` - the manifest's path (required);
    * `--timeout` - milliseconds to wait for the worker (30000 by default).
  """

  use Mix.Task

  @impl true
  def run(argv) do
    {opts, exe, args} = SnakepitBridge.MixHelpers.parse!(argv, "snakepit_bridge.describe")

    output =
      opts[:output] ||
        Mix.raise("mix snakepit_bridge.describe: give the manifest's path with -o PATH")

    case SnakepitBridge.Describe.manifest(exe, args, Keyword.take(opts, [:timeout])) do
      {:ok, manifest, text} ->
        File.mkdir_p!(Path.dirname(output))
        File.write!(output, text)
        Mix.shell().info("Wrote #{output}: #{length(manifest.tools)} tools")

      {:error, message} ->
        Mix.raise(message)
    end
  end
end
