defmodule Mix.Tasks.SnakepitBridge.ElixirManifest do
  @shortdoc "Writes (or checks) the manifest of the Elixir tools declared in Elixir"
  @moduledoc """
  Writes the manifest of the tools declared with `SnakepitBridge.ElixirTools`, in the format
  `snakepit-tools snapshot` writes from a running host (byte for byte the same for the same
  tools), for a Rust crate's `#[elixir_tools(manifest = "...")]` trait to be checked against
  at `cargo build`, with nothing running.

      mix snakepit_bridge.elixir_manifest -o ../my_worker/elixir_tools.json MyApp.Tools

  With `--check` it writes nothing and fails, listing the differences, when the file no longer
  matches the declarations: run it in CI.

      mix snakepit_bridge.elixir_manifest --check

  Options:

    * `-o`, `--output` - the manifest's path;
    * `--session` - the session the manifest names (`"elixir"` by default; a manifest
      snapshotted from a host names the session it was taken in);
    * `--check` - compare instead of writing.

  The modules and the path may come from the configuration instead of the command line:

      config :snakepit_bridge, :elixir_manifest,
        path: "../my_worker/elixir_tools.json",
        modules: [MyApp.Tools]

  and with `compilers: Mix.compilers() ++ [:snakepit_bridge_manifest]` in the project, every
  `mix compile` rewrites the file when the declarations change (see
  `Mix.Tasks.Compile.SnakepitBridgeManifest`).
  """

  use Mix.Task

  alias SnakepitBridge.ElixirTools.ManifestFile

  @requirements ["compile", "loadconfig"]

  @impl true
  def run(argv) do
    {opts, modules, invalid} =
      OptionParser.parse(argv,
        strict: [output: :string, session: :string, check: :boolean],
        aliases: [o: :output]
      )

    if invalid != [] do
      Mix.raise("mix snakepit_bridge.elixir_manifest: invalid options #{inspect(invalid)}")
    end

    settings =
      case ManifestFile.settings(
             Keyword.put(opts, :modules, modules),
             Application.get_env(:snakepit_bridge, :elixir_manifest)
           ) do
        {:ok, settings} ->
          settings

        :not_configured ->
          Mix.raise(
            "mix snakepit_bridge.elixir_manifest: give the path and the modules " <>
              "(mix snakepit_bridge.elixir_manifest -o PATH MyApp.Tools), or set " <>
              "config :snakepit_bridge, :elixir_manifest, path: ..., modules: [...]"
          )

        {:error, message} ->
          Mix.raise("mix snakepit_bridge.elixir_manifest: " <> message)
      end

    try do
      if opts[:check] do
        case ManifestFile.check(settings) do
          :ok -> Mix.shell().info("#{settings.path} is up to date")
          {:error, message} -> Mix.raise(message)
        end
      else
        {status, count} = ManifestFile.write(settings)
        Mix.shell().info("#{settings.path}: #{status} (#{count} tools)")
      end
    rescue
      error in ArgumentError -> Mix.raise(Exception.message(error))
    end
  end
end
