defmodule Mix.Tasks.Compile.SnakepitBridgeManifest do
  @shortdoc "Keeps the Elixir tools' manifest up to date on every mix compile"
  @moduledoc """
  A Mix compiler that rewrites the manifest of `config :snakepit_bridge, :elixir_manifest`
  (see `Mix.Tasks.SnakepitBridge.ElixirManifest`) whenever the declared tools change. Add it
  after Elixir's compilers:

      def project do
        [compilers: Mix.compilers() ++ [:snakepit_bridge_manifest], ...]
      end

  Without that configuration it does nothing.
  """

  use Mix.Task.Compiler

  alias SnakepitBridge.ElixirTools.ManifestFile

  @impl true
  def run(_argv) do
    Mix.Task.run("loadconfig")

    case ManifestFile.settings([], Application.get_env(:snakepit_bridge, :elixir_manifest)) do
      :not_configured ->
        {:noop, []}

      {:error, message} ->
        error("config :snakepit_bridge, :elixir_manifest: " <> message)

      {:ok, settings} ->
        try do
          case ManifestFile.write(settings) do
            {:written, count} ->
              Mix.shell().info("Wrote #{settings.path} (#{count} Elixir tools)")
              {:ok, []}

            {:unchanged, _count} ->
              {:noop, []}
          end
        rescue
          failure in ArgumentError -> error(Exception.message(failure))
        end
    end
  end

  defp error(message) do
    diagnostic = %Mix.Task.Compiler.Diagnostic{
      compiler_name: "snakepit_bridge_manifest",
      file: "mix.exs",
      message: message,
      position: 0,
      severity: :error
    }

    Mix.shell().error(message)
    {:error, [diagnostic]}
  end
end
