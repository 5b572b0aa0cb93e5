defmodule SnakepitBridge.JSONTest do
  use ExUnit.Case, async: true

  alias SnakepitBridge.JSON

  doctest SnakepitBridge.JSON

  test "decodes every kind of value, nested" do
    text = ~s( {"a": {"b": [true, false, null, [], {}]}, "n": -12, "s": "x", "e": ""} )

    assert JSON.decode(text) ==
             {:ok,
              %{"a" => %{"b" => [true, false, nil, [], %{}]}, "n" => -12, "s" => "x", "e" => ""}}
  end

  test "numbers: integers stay integers, a fraction or an exponent makes a float" do
    assert JSON.decode("0") == {:ok, 0}
    assert JSON.decode("-0") == {:ok, 0}

    assert JSON.decode("123456789012345678901234567890") ==
             {:ok, 123_456_789_012_345_678_901_234_567_890}

    assert JSON.decode("1.0") == {:ok, 1.0}
    assert JSON.decode("-2.5") == {:ok, -2.5}
    assert JSON.decode("1e3") == {:ok, 1000.0}
    assert JSON.decode("1E-2") == {:ok, 0.01}
    assert JSON.decode("2.5e+1") == {:ok, 25.0}
    assert JSON.decode("[0.0]") == {:ok, [0.0]}
  end

  test "invalid numbers are refused" do
    for text <- ["01", "1.", ".5", "-", "+1", "1e", "1.5.2", "0x10", "1e999"] do
      assert {:error, _} = JSON.decode(text), "#{text} should not decode"
    end

    assert JSON.decode("1e999") == {:error, "number out of range at byte 0"}
  end

  test "string escapes, unicode escapes and surrogate pairs" do
    assert JSON.decode(~S("a\"b\\c\/d\b\f\n\r\t")) == {:ok, "a\"b\\c/d\b\f\n\r\t"}
    assert JSON.decode(~S("\u00e9\u4e2d")) == {:ok, "é中"}
    assert JSON.decode(~S("\uD83D\uDE00")) == {:ok, "😀"}
    assert JSON.decode(~S("\u0000")) == {:ok, <<0>>}
    assert JSON.decode(~s("héllo 😀")) == {:ok, "héllo 😀"}
  end

  test "bad strings are refused with the byte offset" do
    assert JSON.decode(~S("\uD83D")) == {:error, "lone surrogate \\uD83D at byte 1"}
    assert JSON.decode(~S("\uDE00x")) == {:error, "lone surrogate \\uDE00 at byte 1"}
    assert JSON.decode(~S("\uD83D\u0041")) == {:error, "lone surrogate \\uD83D at byte 1"}
    assert JSON.decode(~S("\u12G4")) == {:error, "invalid \\u escape at byte 1"}
    assert JSON.decode(~S("\x")) == {:error, "invalid escape at byte 1"}

    assert JSON.decode(~s("a\nb")) ==
             {:error, "control character in a string at byte 2 (escape it)"}

    assert JSON.decode(~s("abc)) == {:error, "unterminated string at byte 4"}
    assert JSON.decode(<<?", 0xFF, ?">>) == {:error, "invalid UTF-8 at byte 1"}
  end

  test "structural errors are refused" do
    assert JSON.decode("") == {:error, "unexpected end of input at byte 0"}
    assert JSON.decode("[1 2]") == {:error, "unexpected `2` at byte 3 (expected `,` or `]`)"}
    assert JSON.decode(~s({"a" 1})) == {:error, "unexpected `1` at byte 5 (expected `:`)"}
    assert JSON.decode(~s({"a": 1,})) == {:error, "unexpected `}` at byte 8"}
    assert JSON.decode(~s({a: 1})) == {:error, "unexpected `a` at byte 1"}
    assert JSON.decode("[1] x") == {:error, "unexpected text after the JSON value at byte 4"}
    assert JSON.decode("tru") == {:error, "unexpected `t` at byte 0"}
    assert JSON.decode("[") == {:error, "unexpected end of input at byte 1"}
  end

  test "the last of duplicate keys wins" do
    assert JSON.decode(~s({"a": 1, "a": 2})) == {:ok, %{"a" => 2}}
  end

  test "encode writes what decode reads back" do
    value = %{"s" => "q\"\\\n\t\u0001é", "l" => [1, 2.5, true, false, nil], "m" => %{"k" => []}}
    assert JSON.encode(value) |> JSON.decode() == {:ok, value}
    assert JSON.encode(%{b: 1, a: "x"}) == ~s({"a":"x","b":1})
  end
end
