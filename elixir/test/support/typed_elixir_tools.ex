defmodule SnakepitBridge.Test.TypedElixirTools do
  @moduledoc "Elixir tools of every declared form, for the tests of SnakepitBridge.ElixirTools."
  use SnakepitBridge.ElixirTools

  @doc """
  Scale a number.

  Used by the tests.
  """
  deftool scale(x :: float, factor :: integer \\ 2) :: number do
    x * factor
  end

  @doc "Count the words of a text"
  deftool word_count(text :: string, options :: map \\ %{"sep" => " "}) :: integer,
    name: "text.word-count" do
    text |> String.split(options["sep"]) |> length()
  end

  @doc "Echo anything"
  deftool echo(value :: any, tags :: list \\ nil) :: any do
    {value, tags} |> elem(0)
  end

  @doc "Returns what it should not"
  deftool liar(kind :: string) :: integer do
    case kind do
      "string" -> "not an integer"
      "tuple" -> {:a, 1}
      "nested" -> [1, {:a, 1}]
      "throw" -> throw(:oops)
      "exit" -> exit(:gone)
      "raise" -> raise ArgumentError, "raised by the tool"
      _ -> 1
    end
  end

  # Defaults of every JSON kind, as snakepit's BridgeServer lists them and the Rust CLI prints
  # them (floats in serde_json's notation, object keys in byte order, escapes): the real suite compares
  # `snakepit-tools snapshot` with the manifest from the code.
  @doc "Returns its arguments"
  deftool defaults(
            a :: float \\ 1.0e21,
            b :: float \\ 1.5e-7,
            c :: number \\ 0.1,
            d :: list \\ [1.0e16, 100.0, -0.0, 5.0e-324, 1.0e-5, 123_456_789.125],
            e :: object \\ %{"z" => 1, "a" => %{"y" => [true, false, nil, "é\n\"\\\u0001"]}},
            f :: integer \\ -9_223_372_036_854_775_808,
            g :: boolean \\ false,
            h :: string \\ ""
          ) :: list do
    [a, b, c, d, e, f, g, h]
  end
end
