defmodule SnakepitBridge.ElixirTools.ManifestFile do
  @moduledoc false
  # The committed manifest of a project's Elixir tools: what to write (from the task's command
  # line or `config :snakepit_bridge, :elixir_manifest`), writing it, checking it. Shared by
  # `mix snakepit_bridge.elixir_manifest` and the `:snakepit_bridge_manifest` compiler.

  alias SnakepitBridge.{ElixirTools, Manifest}

  @enforce_keys [:path, :modules, :session]
  defstruct [:path, :modules, :session]

  @doc """
  The settings from `opts` (`:output`, `:session`, `:modules` as module names), falling back
  on `config :snakepit_bridge, elixir_manifest: [path: ..., modules: [...], session: ...]`.
  `{:ok, settings}`, `:not_configured` when neither names a path and modules, or
  `{:error, message}`.
  """
  def settings(opts, config) do
    config = config || []
    path = opts[:output] || config[:path]
    session = opts[:session] || config[:session] || "elixir"

    modules =
      case Keyword.get(opts, :modules, []) do
        [] -> config[:modules] || []
        names -> Enum.map(names, &Module.concat([&1]))
      end

    cond do
      is_nil(path) and modules == [] ->
        :not_configured

      is_nil(path) ->
        {:error,
         "give the manifest's path with -o PATH (or `path:` in config :snakepit_bridge, " <>
           ":elixir_manifest)"}

      modules == [] ->
        {:error,
         "name the modules that declare the tools (mix snakepit_bridge.elixir_manifest " <>
           "-o #{path} MyApp.Tools ...), or `modules:` in config :snakepit_bridge, " <>
           ":elixir_manifest"}

      not is_binary(session) or session == "" ->
        {:error, "the session the manifest names must be a non-empty string"}

      true ->
        {:ok, %__MODULE__{path: path, modules: modules, session: session}}
    end
  end

  @doc "The manifest's text for `settings`."
  def text(%__MODULE__{} = settings) do
    ElixirTools.manifest(settings.modules, session: settings.session)
  end

  @doc "Writes the manifest when its text changed: `{:written | :unchanged, tool_count}`."
  def write(%__MODULE__{} = settings) do
    text = text(settings)
    count = length(Enum.flat_map(settings.modules, &ElixirTools.tools/1))

    if File.read(settings.path) == {:ok, text} do
      {:unchanged, count}
    else
      File.mkdir_p!(Path.dirname(settings.path))
      # Beside the target, then renamed: a failed write never leaves half a manifest.
      partial = settings.path <> ".partial"
      File.write!(partial, text)
      File.rename!(partial, settings.path)
      {:written, count}
    end
  end

  @doc "`:ok` when the file holds the manifest of the declarations, else `{:error, message}`."
  def check(%__MODULE__{} = settings) do
    text = text(settings)

    case File.read(settings.path) do
      {:ok, ^text} ->
        :ok

      {:ok, recorded_text} ->
        {:error,
         "#{settings.path} does not match the Elixir tools declared in " <>
           "#{Enum.map_join(settings.modules, ", ", &inspect/1)}:\n" <>
           differences(recorded_text, text) <> "\n" <> update_hint(settings)}

      {:error, reason} ->
        {:error,
         "cannot read #{settings.path}: #{:file.format_error(reason)}; " <> update_hint(settings)}
    end
  end

  @doc "The command that writes the manifest for `settings`."
  def command(%__MODULE__{} = settings) do
    modules = Enum.map_join(settings.modules, " ", &inspect/1)
    session = if settings.session == "elixir", do: "", else: " --session #{settings.session}"
    "mix snakepit_bridge.elixir_manifest -o #{settings.path}#{session} #{modules}"
  end

  defp update_hint(settings), do: "Update it with: " <> command(settings)

  defp same_tools(recorded_text, text) do
    session = fn manifest_text -> Jason.decode!(manifest_text)["session"] end

    case {session.(recorded_text), session.(text)} do
      {same, same} -> "the same tools, written differently (not as the task writes them)"
      {recorded, declared} -> "the session is #{inspect(recorded)}, not #{inspect(declared)}"
    end
  end

  defp differences(recorded_text, text) do
    with {:ok, recorded} <- Manifest.parse(recorded_text),
         {:ok, current} <- Manifest.parse(text),
         [_ | _] = lines <- Manifest.diff(recorded, current) do
      Enum.map_join(lines, "\n", &("  " <> &1))
    else
      [] -> "  " <> same_tools(recorded_text, text)
      {:error, reason} -> "  (the file is not a manifest: #{reason})"
    end
  end
end
