defmodule SnakepitBridge.ElixirTools.ManifestJSON do
  @moduledoc false
  # The manifest `snakepit-tools snapshot` writes, from registrations instead of a running
  # host. Two steps, each the mirror of the code it must agree with byte for byte:
  #
  #   * exposed_tool/2: what snakepit's BridgeServer answers GetExposedElixirTools with for a
  #     registered tool (lib/snakepit/grpc/bridge_server.ex get_exposed_elixir_tools/2,
  #     encode_single_parameter_spec/1), as the Rust CLI reads it (bridge-runtime
  #     tool_list.rs: `From<proto::ToolSpec> for HostTool`);
  #   * manifest/2: the Rust manifest's JSON (bridge-spec manifest.rs `Manifest::new` +
  #     `to_json`: tools sorted by name, serde_json's pretty printer, empty fields left out,
  #     object keys of values in byte order, floats as serde_json prints them).

  @doc "A registered tool (`name`, the metadata given to ToolRegistry) as the host lists it."
  def exposed_tool(name, metadata) do
    # snakepit: every metadata value becomes a string (lists and other terms by inspect/1),
    # "parameters" is dropped, and supports_streaming is read back from the strings.
    listed =
      metadata
      |> Map.new(fn
        {key, value} when is_binary(value) or is_atom(value) or is_number(value) ->
          {to_string(key), to_string(value)}

        {key, value} ->
          {to_string(key), inspect(value)}
      end)
      |> Map.delete("parameters")

    %{
      name: name,
      description: Map.get(metadata, :description, ""),
      parameters: Enum.map(Map.get(metadata, :parameters, []), &exposed_parameter/1),
      metadata: listed,
      supports_streaming: Map.get(listed, "supports_streaming", "false") == "true"
    }
  end

  defp exposed_parameter(spec) do
    spec = Map.new(spec, fn {key, value} -> {to_string(key), value} end)

    # bridge-runtime reads a blank type as `any`
    type = to_string(Map.get(spec, "type", "any"))
    type = if String.trim(type) == "", do: "any", else: type

    %{
      name: Map.get(spec, "name", ""),
      type: type,
      required: Map.get(spec, "required", false),
      description: to_string(Map.get(spec, "description", "")),
      default: Map.get(spec, "default"),
      validation: Map.get(spec, "validation", %{})
    }
  end

  @doc "The manifest's text for `session` and the listed `tools`."
  def manifest(session, tools) do
    fields =
      [{"format_version", 1}] ++
        if(session == "", do: [], else: [{"session", session}]) ++
        [{"tools", {:array, tools |> Enum.sort_by(& &1.name) |> Enum.map(&tool_fields/1)}}]

    pretty({:object, fields}, "") <> "\n"
  end

  defp tool_fields(tool) do
    {:object,
     [
       {"name", tool.name},
       {"description", tool.description},
       {"parameters", {:array, Enum.map(tool.parameters, &parameter_fields/1)}}
     ] ++
       if(tool.metadata == %{}, do: [], else: [{"metadata", tool.metadata}]) ++
       if(tool.supports_streaming, do: [{"supports_streaming", true}], else: [])}
  end

  defp parameter_fields(param) do
    {:object,
     [
       {"name", param.name},
       {"type", param.type},
       {"required", param.required},
       {"description", param.description}
     ] ++
       if(is_nil(param.default), do: [], else: [{"default", param.default}]) ++
       if(param.validation == %{}, do: [], else: [{"validation", param.validation}])}
  end

  # --- serde_json's PrettyFormatter: two spaces, `"key": value`, `[]` and `{}` when empty ---

  defp pretty({:object, []}, _indent), do: "{}"

  defp pretty({:object, fields}, indent) do
    inner = indent <> "  "

    entries =
      Enum.map_join(fields, ",\n", fn {key, value} ->
        inner <> string(key) <> ": " <> pretty(value, inner)
      end)

    "{\n" <> entries <> "\n" <> indent <> "}"
  end

  defp pretty({:array, []}, _indent), do: "[]"

  defp pretty({:array, items}, indent) do
    inner = indent <> "  "
    "[\n" <> Enum.map_join(items, ",\n", &(inner <> pretty(&1, inner))) <> "\n" <> indent <> "]"
  end

  # A JSON value: objects as serde_json's map holds them, keys in byte order.
  defp pretty(map, indent) when is_map(map) do
    fields = map |> Enum.map(fn {key, value} -> {to_string(key), value} end) |> Enum.sort()
    pretty({:object, fields}, indent)
  end

  defp pretty(list, indent) when is_list(list), do: pretty({:array, list}, indent)
  defp pretty(true, _indent), do: "true"
  defp pretty(false, _indent), do: "false"
  defp pretty(nil, _indent), do: "null"
  defp pretty(value, _indent) when is_binary(value), do: string(value)
  defp pretty(value, _indent) when is_atom(value), do: string(Atom.to_string(value))
  defp pretty(value, _indent) when is_integer(value), do: Integer.to_string(value)
  defp pretty(value, _indent) when is_float(value), do: float(value)

  @doc """
  A JSON string as serde_json writes it: `"` and `\\` escaped, `\\b \\f \\n \\r \\t`, other
  control characters as `\\u00xx` (lower-case hex), everything else as it is.
  """
  def string(text) do
    escaped =
      for <<byte <- text>>, into: "" do
        case byte do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          ?\b -> "\\b"
          ?\f -> "\\f"
          ?\n -> "\\n"
          ?\r -> "\\r"
          ?\t -> "\\t"
          control when control < 0x20 -> "\\u00" <> hex(control)
          other -> <<other>>
        end
      end

    "\"" <> escaped <> "\""
  end

  defp hex(byte),
    do: byte |> Integer.to_string(16) |> String.pad_leading(2, "0") |> String.downcase()

  @doc """
  A float as serde_json (1.0.154, Cargo.lock) prints it: the shortest digits that read back
  as the same float (Erlang's `[:short]` gives the same ones), in decimal notation when
  10^-5 <= |x| < 10^16, otherwise as `1e+21` / `1.5e-7`. The real-snakepit suite compares it
  with what the Rust CLI writes, so a serde_json that prints otherwise fails there.
  """
  def float(value) do
    text = :erlang.float_to_binary(value, [:short])

    {sign, unsigned} =
      if String.starts_with?(text, "-"),
        do: {"-", binary_part(text, 1, byte_size(text) - 1)},
        else: {"", text}

    {mantissa, exponent} =
      case String.split(unsigned, "e") do
        [mantissa] -> {mantissa, 0}
        [mantissa, exponent] -> {mantissa, String.to_integer(exponent)}
      end

    [whole, fraction] = String.split(mantissa, ".")
    digits = String.trim_leading(whole <> fraction, "0")

    if digits == "" do
      sign <> "0.0"
    else
      trimmed = String.trim_trailing(digits, "0")
      # value = trimmed x 10^k
      k = exponent - byte_size(fraction) + (byte_size(digits) - byte_size(trimmed))
      sign <> layout(trimmed, k)
    end
  end

  # The layout, from the digits and the exponent of the last one.
  defp layout(digits, k) do
    length = byte_size(digits)
    kk = length + k

    cond do
      k >= 0 and kk <= 16 ->
        digits <> String.duplicate("0", k) <> ".0"

      kk > 0 and kk <= 16 ->
        binary_part(digits, 0, kk) <> "." <> binary_part(digits, kk, length - kk)

      kk > -5 and kk <= 0 ->
        "0." <> String.duplicate("0", -kk) <> digits

      length == 1 ->
        digits <> exponent(kk - 1)

      true ->
        binary_part(digits, 0, 1) <> "." <> binary_part(digits, 1, length - 1) <> exponent(kk - 1)
    end
  end

  # serde_json writes a positive exponent with its sign: `1e+21`, `1.5e-7`.
  defp exponent(e) when e >= 0, do: "e+" <> Integer.to_string(e)
  defp exponent(e), do: "e" <> Integer.to_string(e)
end
