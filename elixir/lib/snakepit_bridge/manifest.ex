defmodule SnakepitBridge.Manifest do
  @moduledoc """
  A worker's tool manifest: the JSON a worker binary prints when run with
  `--snakepit-describe`, and that `snakepit-tools describe -o PATH -- EXE` writes.

  ```json
  {
    "format_version": 1,
    "worker": "showcase_worker",
    "tools": [
      {
        "name": "process_binary",
        "description": "Process the binary parameter `data`.",
        "parameters": [
          {"name": "data", "type": "bytes", "required": true, "description": "", "binary": true},
          {"name": "operation", "type": "string", "required": false, "description": "",
           "default": "checksum"}
        ],
        "supports_streaming": false,
        "extra_parameters": false,
        "result_schema": {"type": "object"}
      },
      {
        "name": "echo",
        "description": "Echo back every parameter received.",
        "parameters": [
          {"name": "kwargs", "type": "any", "required": true, "description": "", "rest": true}
        ],
        "extra_parameters": true
      }
    ]
  }
  ```

  Every field but `format_version`, `tools`, and each tool's and parameter's `name` may be left
  out: `description` is `""`, `type` is `"any"`, `required`, `binary`, `rest`,
  `supports_streaming` and `extra_parameters` are `false`, `default`, `schema` and
  `result_schema` are absent. Fields this version does not know are kept (in `__tools__/0`) and
  otherwise ignored.

  A parameter with `"rest": true` takes every parameter of the call that no other one names (a
  Rust worker's `#[param(rest)]`, Python's `**kwargs`). The worker registers it with the host as
  a required `any` parameter named after its argument, but a caller never passes it by that
  name: `SnakepitBridge.Tools` leaves it out of the generated function's arguments, and the
  tool (with `"extra_parameters": true`) takes any other keyword option as a parameter.
  """

  alias SnakepitBridge.Types

  @format_version 1

  defmodule Parameter do
    @moduledoc "One parameter of a `SnakepitBridge.Manifest.Tool`, in declaration order."
    @enforce_keys [:name, :type_name, :type]
    defstruct [
      :name,
      :type_name,
      :type,
      required: false,
      description: "",
      default: :none,
      binary: false,
      rest: false,
      schema: nil
    ]

    @typedoc """
    `default` is `:none` when the manifest gives none; `rest` marks the parameter that takes
    every other parameter of the call (see `SnakepitBridge.Manifest`).
    """
    @type t :: %__MODULE__{
            name: String.t(),
            type_name: String.t(),
            type: SnakepitBridge.Types.t(),
            required: boolean(),
            description: String.t(),
            default: term(),
            binary: boolean(),
            rest: boolean(),
            schema: map() | nil
          }
  end

  defmodule Tool do
    @moduledoc "One tool of a `SnakepitBridge.Manifest`."
    @enforce_keys [:name, :raw]
    defstruct [
      :name,
      :raw,
      description: "",
      parameters: [],
      supports_streaming: false,
      extra_parameters: false,
      result_schema: nil
    ]

    @typedoc "`raw` is the tool as the manifest's JSON holds it."
    @type t :: %__MODULE__{
            name: String.t(),
            raw: map(),
            description: String.t(),
            parameters: [SnakepitBridge.Manifest.Parameter.t()],
            supports_streaming: boolean(),
            extra_parameters: boolean(),
            result_schema: map() | nil
          }
  end

  defstruct format_version: @format_version, worker: nil, tools: []

  @type t :: %__MODULE__{
          format_version: pos_integer(),
          worker: String.t() | nil,
          tools: [Tool.t()]
        }

  @doc "The manifest format this version reads."
  @spec format_version() :: pos_integer()
  def format_version, do: @format_version

  @doc """
  The commands that write a manifest at `path` for a worker, as every message that asks for one
  spells them.
  """
  @spec write_commands(String.t()) :: String.t()
  def write_commands(path) do
    "`WORKER_EXE --snakepit-describe > #{path}`, " <>
      "`snakepit-tools describe -o #{path} -- WORKER_EXE`, " <>
      "or `mix snakepit_bridge.describe -o #{path} -- WORKER_EXE`"
  end

  @doc "Reads and parses the manifest at `path`; the error names the path."
  @spec read(Path.t()) :: {:ok, t()} | {:error, String.t()}
  def read(path) do
    case File.read(path) do
      {:ok, text} ->
        case parse(text) do
          {:ok, manifest} -> {:ok, manifest}
          {:error, reason} -> {:error, "the manifest #{path} is not valid: #{reason}"}
        end

      {:error, reason} ->
        {:error, "cannot read the manifest #{path}: #{:file.format_error(reason)}"}
    end
  end

  @doc """
  Parses a manifest's JSON text, every problem reported at once.

      iex> {:ok, manifest} = SnakepitBridge.Manifest.parse(~s({"format_version": 1, "tools": [{"name": "ping"}]}))
      iex> hd(manifest.tools).name
      "ping"
      iex> SnakepitBridge.Manifest.parse(~s({"format_version": 2, "tools": []}))
      {:error, "format_version 2 is not supported (this version reads 1)"}
  """
  @spec parse(String.t()) :: {:ok, t()} | {:error, String.t()}
  def parse(text) do
    case Jason.decode(text) do
      {:ok, json} -> from_json(json)
      {:error, %Jason.DecodeError{} = error} -> {:error, "not JSON: #{Exception.message(error)}"}
    end
  end

  @doc "Builds a manifest from decoded JSON."
  @spec from_json(term()) :: {:ok, t()} | {:error, String.t()}
  def from_json(%{"format_version" => @format_version} = json) do
    case Map.get(json, "tools") do
      tools when is_list(tools) ->
        {tools, errors} =
          tools
          |> Enum.with_index()
          |> Enum.map(fn {tool, index} -> tool(tool, index) end)
          |> Enum.split_with(&match?({:ok, _}, &1))

        errors = Enum.flat_map(errors, fn {:error, list} -> list end)
        tools = tools |> Enum.map(fn {:ok, tool} -> tool end) |> Enum.sort_by(& &1.name)

        errors =
          errors ++
            (tools
             |> Enum.frequencies_by(& &1.name)
             |> Enum.filter(fn {_, count} -> count > 1 end)
             |> Enum.map(fn {name, _} -> "tool `#{name}` is listed more than once" end))

        if errors == [] do
          worker = if is_binary(json["worker"]), do: json["worker"]
          {:ok, %__MODULE__{worker: worker, tools: tools}}
        else
          {:error, Enum.join(errors, "; ")}
        end

      other ->
        {:error, "`tools` must be a list of tools, got #{Jason.encode!(other)}"}
    end
  end

  def from_json(%{"format_version" => version}) when is_integer(version),
    do:
      {:error,
       "format_version #{version} is not supported (this version reads #{@format_version})"}

  def from_json(json) when is_map(json),
    do: {:error, "`format_version` must be #{@format_version}"}

  def from_json(_json),
    do: {:error, "a manifest is a JSON object with `format_version` and `tools`"}

  defp tool(%{"name" => name} = raw, _index) when is_binary(name) and name != "" do
    where = "tool `#{name}`"

    errors =
      check_fields(raw, where, %{
        "description" => :string,
        "parameters" => :list,
        "supports_streaming" => :boolean,
        "extra_parameters" => :boolean,
        "result_schema" => :map
      })

    {params, param_errors} =
      raw
      |> Map.get("parameters", [])
      |> List.wrap()
      |> Enum.with_index()
      |> Enum.map(fn {param, index} -> parameter(param, index, where) end)
      |> Enum.split_with(&match?({:ok, _}, &1))

    params = Enum.map(params, fn {:ok, param} -> param end)

    duplicates =
      params
      |> Enum.frequencies_by(& &1.name)
      |> Enum.filter(fn {_, count} -> count > 1 end)
      |> Enum.map(fn {param, _} -> "#{where}: parameter `#{param}` is listed more than once" end)

    errors = errors ++ Enum.flat_map(param_errors, fn {:error, list} -> list end) ++ duplicates

    if errors == [] do
      {:ok,
       %Tool{
         name: name,
         raw: raw,
         description: Map.get(raw, "description", ""),
         parameters: params,
         supports_streaming: Map.get(raw, "supports_streaming", false),
         extra_parameters: Map.get(raw, "extra_parameters", false),
         result_schema: Map.get(raw, "result_schema")
       }}
    else
      {:error, errors}
    end
  end

  defp tool(_raw, index), do: {:error, ["tool #{index} has no `name` (a non-empty string)"]}

  defp parameter(%{"name" => name} = raw, _index, tool) when is_binary(name) and name != "" do
    where = "#{tool}: parameter `#{name}`"

    errors =
      check_fields(raw, where, %{
        "type" => :string,
        "required" => :boolean,
        "description" => :string,
        "binary" => :boolean,
        "rest" => :boolean,
        "schema" => :map
      })

    if errors == [] do
      type_name = Map.get(raw, "type", "any")
      binary = Map.get(raw, "binary", false)

      {:ok,
       %Parameter{
         name: name,
         type_name: type_name,
         type: Types.from_host(type_name, binary),
         required: Map.get(raw, "required", false),
         description: Map.get(raw, "description", ""),
         default: Map.get(raw, "default", :none),
         binary: binary,
         rest: Map.get(raw, "rest", false),
         schema: Map.get(raw, "schema")
       }}
    else
      {:error, errors}
    end
  end

  defp parameter(_raw, index, tool),
    do: {:error, ["#{tool}: parameter #{index} has no `name` (a non-empty string)"]}

  defp check_fields(raw, where, fields) do
    for {field, type} <- Enum.sort(fields),
        {:ok, value} <- [Map.fetch(raw, field)],
        not Types.valid?(type, value) do
      "#{where}: `#{field}` must be #{Types.describe(type)}, got #{Jason.encode!(value)}"
    end
  end

  @doc """
  A tool's declaration as a caller depends on it, as one integer: equal for two tools exactly
  when their names, parameters (name, type, required, default, binary, rest, schema, in order),
  `supports_streaming`, `extra_parameters` and `result_schema` agree. Descriptions do not
  count. `:erlang.phash2/2` is the same on every node and OTP release, so nodes compare
  signatures instead of whole manifests (see `SnakepitBridge.Cluster`).
  """
  @spec signature(Tool.t()) :: non_neg_integer()
  def signature(%Tool{} = tool) do
    params =
      for p <- tool.parameters,
          do: {p.name, p.type_name, p.required, p.default, p.binary, p.rest, p.schema}

    declaration =
      {tool.name, params, tool.supports_streaming, tool.extra_parameters, tool.result_schema}

    :erlang.phash2(declaration, 4_294_967_296)
  end

  @doc """
  How the `current` manifest (what the worker describes now) differs from the `recorded` one
  (committed): one readable line per difference, `[]` when they agree. Tools are compared field
  by field with the defaults above filled in; the `worker` field is not compared.
  """
  @spec diff(t(), t()) :: [String.t()]
  def diff(%__MODULE__{} = recorded, %__MODULE__{} = current) do
    old = Map.new(recorded.tools, &{&1.name, &1})
    new = Map.new(current.tools, &{&1.name, &1})
    names = Enum.sort(Enum.uniq(Map.keys(old) ++ Map.keys(new)))

    Enum.flat_map(names, fn name ->
      case {old[name], new[name]} do
        {nil, _} -> ["+ tool `#{name}`: described by the worker, not in the manifest"]
        {_, nil} -> ["- tool `#{name}`: in the manifest, no longer described by the worker"]
        {a, b} -> tool_diff(a, b)
      end
    end)
  end

  defp tool_diff(a, b) do
    prefix = "~ tool `#{a.name}`: "

    fields =
      for field <- [:description, :supports_streaming, :extra_parameters, :result_schema],
          Map.fetch!(a, field) != Map.fetch!(b, field) do
        prefix <> change("#{field}", Map.fetch!(a, field), Map.fetch!(b, field))
      end

    old_params = Enum.map(a.parameters, & &1.name)
    new_params = Enum.map(b.parameters, & &1.name)

    added = for p <- new_params -- old_params, do: prefix <> "parameter `#{p}` added"
    removed = for p <- old_params -- new_params, do: prefix <> "parameter `#{p}` removed"
    common = Enum.filter(old_params, &(&1 in new_params))

    order =
      if Enum.filter(new_params, &(&1 in common)) != common,
        do: [prefix <> "parameter order #{inspect(old_params)} -> #{inspect(new_params)}"],
        else: []

    changed =
      for name <- common,
          pa = Enum.find(a.parameters, &(&1.name == name)),
          pb = Enum.find(b.parameters, &(&1.name == name)),
          field <- [:type_name, :required, :default, :binary, :rest, :description, :schema],
          Map.fetch!(pa, field) != Map.fetch!(pb, field) do
        label = if field == :type_name, do: "type", else: "#{field}"

        prefix <>
          "parameter `#{name}` " <> change(label, Map.fetch!(pa, field), Map.fetch!(pb, field))
      end

    fields ++ added ++ removed ++ order ++ changed
  end

  defp change(label, old, new), do: "#{label}: #{show(old)} -> #{show(new)}"

  defp show(:none), do: "(none)"
  defp show(value), do: Jason.encode!(value)
end
