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
end
