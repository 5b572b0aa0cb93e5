defmodule SnakepitBridge.JSON do
  @moduledoc """
  A small, strict JSON (RFC 8259) decoder and encoder for tool manifests.

  The package reads manifests at compile time, where neither Jason (snakepit's dependency, not
  loaded when this package builds on its own) nor Elixir's `JSON` (1.18+) nor OTP's `:json`
  (27+) can be counted on, so it carries its own.

  Decoding: objects become maps with string keys (the last of duplicate keys wins), arrays
  lists, numbers with a fraction or an exponent floats and the others integers, `null` `nil`.
  `\\uXXXX` escapes, surrogate pairs included, become UTF-8. Anything else (a trailing comma, a
  control character or a lone surrogate in a string, text after the value, bytes that are not
  UTF-8) is an error naming the byte offset.

      iex> SnakepitBridge.JSON.decode(~s({"a": [1, 2.5, "\\\\u00e9"], "b": null}))
      {:ok, %{"a" => [1, 2.5, "é"], "b" => nil}}

      iex> SnakepitBridge.JSON.decode("[1,]")
      {:error, "unexpected `]` at byte 3"}
  """

  @ws [?\s, ?\t, ?\n, ?\r]

  @doc "Decodes one JSON value, `{:ok, term}` or `{:error, message}`."
  @spec decode(binary()) :: {:ok, term()} | {:error, String.t()}
  def decode(text) when is_binary(text) do
    {value, rest, pos} = value(skip_ws(text, 0))

    case skip_ws(rest, pos) do
      {"", _pos} -> {:ok, value}
      {_rest, pos} -> {:error, "unexpected text after the JSON value at byte #{pos}"}
    end
  catch
    {:json_error, message} -> {:error, message}
  end

  @doc "Encodes maps (string or atom keys, written sorted), lists, strings, numbers, booleans and `nil`."
  @spec encode(term()) :: String.t()
  def encode(value), do: value |> encode_iodata() |> IO.iodata_to_binary()

  defp encode_iodata(nil), do: "null"
  defp encode_iodata(true), do: "true"
  defp encode_iodata(false), do: "false"
  defp encode_iodata(value) when is_integer(value), do: Integer.to_string(value)
  defp encode_iodata(value) when is_float(value), do: Float.to_string(value)
  defp encode_iodata(value) when is_atom(value), do: encode_string(Atom.to_string(value))
  defp encode_iodata(value) when is_binary(value), do: encode_string(value)

  defp encode_iodata(value) when is_list(value),
    do: ["[", Enum.map_intersperse(value, ",", &encode_iodata/1), "]"]

  defp encode_iodata(value) when is_map(value) do
    pairs =
      value
      |> Enum.map(fn {key, item} -> {to_string(key), item} end)
      |> Enum.sort()
      |> Enum.map_intersperse(",", fn {key, item} ->
        [encode_string(key), ":", encode_iodata(item)]
      end)

    ["{", pairs, "}"]
  end

  defp encode_string(string) do
    escaped =
      for <<char::utf8 <- string>>, into: "" do
        case char do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          ?\n -> "\\n"
          ?\r -> "\\r"
          ?\t -> "\\t"
          c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
          c -> <<c::utf8>>
        end
      end

    [?", escaped, ?"]
  end

  # Each step takes {rest, byte offset} and returns {value, rest, offset}.

  defp value({<<?{, rest::binary>>, pos}), do: object(skip_ws(rest, pos + 1), %{})
  defp value({<<?[, rest::binary>>, pos}), do: array(skip_ws(rest, pos + 1), [])
  defp value({<<?", rest::binary>>, pos}), do: string(rest, pos + 1, [])
  defp value({<<"true", rest::binary>>, pos}), do: {true, rest, pos + 4}
  defp value({<<"false", rest::binary>>, pos}), do: {false, rest, pos + 5}
  defp value({<<"null", rest::binary>>, pos}), do: {nil, rest, pos + 4}
  defp value({<<c, _::binary>> = text, pos}) when c == ?- or c in ?0..?9, do: number(text, pos)
  defp value({rest, pos}), do: unexpected(rest, pos)

  defp object({<<?}, rest::binary>>, pos}, acc) when acc == %{}, do: {acc, rest, pos + 1}

  defp object({<<?", rest::binary>>, pos}, acc) do
    {key, rest, pos} = string(rest, pos + 1, [])

    case skip_ws(rest, pos) do
      {<<?:, rest::binary>>, pos} ->
        {item, rest, pos} = value(skip_ws(rest, pos + 1))
        acc = Map.put(acc, key, item)

        case skip_ws(rest, pos) do
          {<<?,, rest::binary>>, pos} -> object(skip_ws(rest, pos + 1), acc)
          {<<?}, rest::binary>>, pos} -> {acc, rest, pos + 1}
          {rest, pos} -> unexpected(rest, pos, "`,` or `}`")
        end

      {rest, pos} ->
        unexpected(rest, pos, "`:`")
    end
  end

  defp object({rest, pos}, _acc), do: unexpected(rest, pos)

  defp array({<<?], rest::binary>>, pos}, []), do: {[], rest, pos + 1}

  defp array(input, acc) do
    {item, rest, pos} = value(input)

    case skip_ws(rest, pos) do
      {<<?,, rest::binary>>, pos} -> array(skip_ws(rest, pos + 1), [item | acc])
      {<<?], rest::binary>>, pos} -> {Enum.reverse([item | acc]), rest, pos + 1}
      {rest, pos} -> unexpected(rest, pos, "`,` or `]`")
    end
  end

  defp string(<<?", rest::binary>>, pos, acc), do: {IO.iodata_to_binary(acc), rest, pos + 1}

  defp string(<<?\\, escape, rest::binary>>, pos, acc) when escape in ~c(\"\\/bfnrt) do
    char =
      case escape do
        ?b -> ?\b
        ?f -> ?\f
        ?n -> ?\n
        ?r -> ?\r
        ?t -> ?\t
        other -> other
      end

    string(rest, pos + 2, [acc, char])
  end

  defp string(<<"\\u", rest::binary>>, pos, acc) do
    {code, rest} = hex4(rest, pos)

    cond do
      code in 0xD800..0xDBFF ->
        case rest do
          <<"\\u", low_rest::binary>> ->
            {low, low_rest} = hex4(low_rest, pos + 6)

            if low in 0xDC00..0xDFFF do
              char = 0x10000 + Bitwise.bsl(code - 0xD800, 10) + (low - 0xDC00)
              string(low_rest, pos + 12, [acc, <<char::utf8>>])
            else
              fail("lone surrogate \\u#{Integer.to_string(code, 16)} at byte #{pos}")
            end

          _ ->
            fail("lone surrogate \\u#{Integer.to_string(code, 16)} at byte #{pos}")
        end

      code in 0xDC00..0xDFFF ->
        fail("lone surrogate \\u#{Integer.to_string(code, 16)} at byte #{pos}")

      true ->
        string(rest, pos + 6, [acc, <<code::utf8>>])
    end
  end

  defp string(<<?\\, _::binary>>, pos, _acc), do: fail("invalid escape at byte #{pos}")

  defp string(<<c, _::binary>>, pos, _acc) when c < 0x20,
    do: fail("control character in a string at byte #{pos} (escape it)")

  defp string(<<c::utf8, rest::binary>>, pos, acc),
    do: string(rest, pos + byte_size(<<c::utf8>>), [acc, <<c::utf8>>])

  defp string("", pos, _acc), do: fail("unterminated string at byte #{pos}")
  defp string(_rest, pos, _acc), do: fail("invalid UTF-8 at byte #{pos}")

  defp hex4(<<digits::binary-size(4), rest::binary>>, pos) do
    case Integer.parse(digits, 16) do
      {code, ""} when code >= 0 ->
        if String.match?(digits, ~r/\A[0-9a-fA-F]{4}\z/),
          do: {code, rest},
          else: fail("invalid \\u escape at byte #{pos}")

      _ ->
        fail("invalid \\u escape at byte #{pos}")
    end
  end

  defp hex4(_rest, pos), do: fail("invalid \\u escape at byte #{pos}")

  defp number(text, pos) do
    # The regex is written here, not in a module attribute (which OTP 28 cannot hold).
    case Regex.run(~r/\A-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/, text, capture: :all) do
      [digits | parts] ->
        size = byte_size(digits)
        <<_::binary-size(size), rest::binary>> = text

        case rest do
          <<c, _::binary>> when c in ?0..?9 or c in [?., ?e, ?E, ?+, ?-] ->
            fail("invalid number at byte #{pos}")

          _ ->
            {to_number(digits, parts, pos), rest, pos + size}
        end

      nil ->
        fail("invalid number at byte #{pos}")
    end
  end

  defp to_number(digits, [], _pos), do: String.to_integer(digits)

  defp to_number(digits, parts, pos) do
    {fraction, exponent} =
      case parts do
        [fraction] -> {fraction, ""}
        [fraction, exponent] -> {fraction, exponent}
      end

    # :erlang.binary_to_float/1 wants a fraction: "1e5" is written "1.0e5".
    mantissa = String.slice(digits, 0, byte_size(digits) - byte_size(fraction <> exponent))
    fraction = if fraction == "", do: ".0", else: fraction

    try do
      :erlang.binary_to_float(mantissa <> fraction <> exponent)
    rescue
      ArgumentError -> fail("number out of range at byte #{pos}")
    end
  end

  defp skip_ws(<<c, rest::binary>>, pos) when c in @ws, do: skip_ws(rest, pos + 1)
  defp skip_ws(rest, pos), do: {rest, pos}

  defp unexpected(rest, pos, expected \\ nil)
  defp unexpected("", pos, _expected), do: fail("unexpected end of input at byte #{pos}")

  defp unexpected(<<c::utf8, _::binary>>, pos, expected) do
    wanted = if expected, do: " (expected #{expected})", else: ""
    fail("unexpected `#{<<c::utf8>>}` at byte #{pos}#{wanted}")
  end

  defp unexpected(_rest, pos, _expected), do: fail("invalid UTF-8 at byte #{pos}")

  defp fail(message), do: throw({:json_error, message})
end
