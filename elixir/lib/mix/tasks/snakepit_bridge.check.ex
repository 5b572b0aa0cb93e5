defmodule Mix.Tasks.SnakepitBridge.Check do
  @shortdoc "Fails when a committed tool manifest no longer matches the worker"
  @moduledoc """
  Compares a committed tool manifest with what the worker binary describes now
  (`EXE --snakepit-describe`), and fails with one line per difference when they differ: run it
  in CI after building the worker.

      mix snakepit_bridge.check priv/showcase_tools.json -- target/release/examples/showcase_worker

  Everything after `--` is the worker's command line; without it, `config :snakepit_bridge,
  executable: ..., args: [...]` is used. Exits 0 when the manifest is up to date.

  Options: `--timeout` in milliseconds to wait for the worker (30000 by default).
  """

  use Mix.Task

  alias SnakepitBridge.{Describe, Manifest}

  @impl true
  def run(argv) do
    {opts, exe, args, path} =
      case SnakepitBridge.MixHelpers.parse!(argv, "snakepit_bridge.check") do
        {opts, exe, args} ->
          case opts[:positional] do
            [path] ->
              {opts, exe, args, path}

            _ ->
              Mix.raise("usage: mix snakepit_bridge.check MANIFEST_PATH [-- WORKER_EXE ARGS...]")
          end
      end

    recorded =
      case Manifest.read(path) do
        {:ok, manifest} ->
          manifest

        {:error, reason} ->
          Mix.raise("#{reason}; write it with " <> Manifest.write_commands(path))
      end

    current =
      case Describe.manifest(exe, args, Keyword.take(opts, [:timeout])) do
        {:ok, manifest, _text} -> manifest
        {:error, message} -> Mix.raise(message)
      end

    case Manifest.diff(recorded, current) do
      [] ->
        Mix.shell().info("#{path} is up to date (#{length(current.tools)} tools)")

      lines ->
        Mix.raise("""
        #{path} does not match what `#{Describe.command(exe, args)}` describes now:
        #{Enum.join(lines, "\n")}
        Update it with: mix snakepit_bridge.describe -o #{path} -- #{Enum.join([exe | args], " ")}
        """)
    end
  end
end
