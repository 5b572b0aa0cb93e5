defmodule SnakepitBridge.ToolsTest do
  # The bindings generated from test/fixtures/showcase_tools.json (test/support/showcase.ex):
  # what each call sends (`__request__/3`, the function the calls themselves build their
  # request with), what it refuses before sending, and the generated docs and specs. The calls
  # against a real pool of the Rust worker are in test/real_snakepit/.
  use ExUnit.Case, async: true

  alias SnakepitBridge.Test.{DefaultPool, Showcase}

  doctest SnakepitBridge.Tools, only: [function_name: 1]

  describe "what a call sends" do
    test "required parameters are positional, in declaration order; the pool is use's :pool" do
      assert Showcase.__request__(:basic_add, [1, 2.5], []) ==
               {"basic_add", %{"a" => 1, "b" => 2.5}, [pool_name: :showcase]}
    end

    test "optional parameters are keyword options; those left out are not sent" do
      assert Showcase.__request__(:ping, [], []) == {"ping", %{}, [pool_name: :showcase]}

      assert Showcase.__request__(:ping, [], message: "hi") ==
               {"ping", %{"message" => "hi"}, [pool_name: :showcase]}

      assert Showcase.__request__(:stream_data, [], count: 3) ==
               {"stream_data", %{"count" => 3}, [pool_name: :showcase]}
    end

    test "call options are kept apart from the tool's parameters, even one named timeout" do
      assert Showcase.__request__(:wait_for_event, ["boot"],
               timeout: 2.5,
               snakepit: [timeout: 60_000, session_id: "s1"]
             ) ==
               {"wait_for_event", %{"event" => "boot", "timeout" => 2.5},
                [timeout: 60_000, session_id: "s1", pool_name: :showcase]}

      assert Showcase.__request__(:wait_for_event, ["boot"], snakepit: [timeout: :infinity]) ==
               {"wait_for_event", %{"event" => "boot"},
                [timeout: :infinity, pool_name: :showcase]}
    end

    test "a pool_name call option overrides use's :pool; without :pool the default pool is used" do
      assert {"ping", _, [pool_name: :other]} =
               Showcase.__request__(:ping, [], snakepit: [pool_name: :other])

      assert DefaultPool.__request__(:ping, [], message: "x", call: [affinity: :strict_queue]) ==
               {"ping", %{"message" => "x"}, [affinity: :strict_queue]}
    end

    test "binary parameters travel in binary_parameters, the others in args" do
      bytes = <<0, 255, 1, 2>>

      assert Showcase.__request__(:process_binary, [bytes], operation: "reverse") ==
               {"process_binary", %{"operation" => "reverse"},
                [pool_name: :showcase, binary_parameters: %{"data" => bytes}]}
    end

    test "extra_parameters tools take any other option as a parameter, the rest one is no argument" do
      assert Showcase.__request__(:echo, [], a: 1, nested: %{"x" => [1]}, snakepit: [timeout: 10]) ==
               {"echo", %{"a" => 1, "nested" => %{"x" => [1]}},
                [timeout: 10, pool_name: :showcase]}

      assert {"call_elixir_demo", %{"tool_name" => "calculate_fibonacci", "n" => 10}, _} =
               Showcase.__request__(:call_elixir_demo, ["calculate_fibonacci"], n: 10)
    end

    test "`any` takes anything, nil included" do
      assert {"wait_for_event", %{"event" => "e", "hint" => nil}, _} =
               Showcase.__request__(:wait_for_event, ["e"], hint: nil)
    end

    test "__request__/3 refuses a function that is no tool, or the wrong number of arguments" do
      assert_raise ArgumentError,
                   "SnakepitBridge.Test.Showcase.__request__/3: no tool function :pong",
                   fn -> Showcase.__request__(:pong, [], []) end

      assert_raise ArgumentError,
                   "SnakepitBridge.Test.Showcase.basic_add/3 (tool `basic_add`): takes 2 " <>
                     "required argument(s) (a, b), got 1",
                   fn -> Showcase.__request__(:basic_add, [1], []) end
    end
  end

  describe "! variants" do
    test "SnakepitBridge.ToolError's message format: the function, the tool and snakepit's error" do
      error = value_error()

      raised = %SnakepitBridge.ToolError{
        tool: "error_demo",
        function: "M.error_demo/1",
        reason: error
      }

      assert Exception.message(raised) ==
               "M.error_demo/1 (tool `error_demo`) failed: " <>
                 "[worker] Request failed: ValueError: This is a demonstration ValueError"
    end
  end

  describe "streaming" do
    test "the callback must take one argument" do
      assert_raise ArgumentError,
                   ~r/stream_data\/2 \(tool `stream_data`\): the callback must be a function of one argument/,
                   fn -> Showcase.stream_data([], fn -> :ok end) end
    end
  end

  describe "bad input is refused before anything is sent" do
    test "an unknown option, with did you mean" do
      assert_refused(
        ~s[SnakepitBridge.Test.Showcase.ping/1 (tool `ping`): unknown option :mesage (did you mean :message?); ] <>
          "its options are :message, and snakepit: [...] for call options such as :timeout",
        fn -> Showcase.ping(mesage: "hi") end
      )

      assert_refused(
        "SnakepitBridge.Test.Showcase.basic_add/3 (tool `basic_add`): unknown option :c; " <>
          "the tool takes no options, and snakepit: [...] for call options such as :timeout",
        fn -> Showcase.basic_add(1, 2, c: 3) end
      )

      assert_refused(~r/unknown option :snakepitt \(did you mean :snakepit\?\)/, fn ->
        Showcase.ping(snakepitt: [timeout: 1])
      end)
    end

    test "an unknown or bad call option" do
      assert_refused(
        ~r/ping\/1 \(tool `ping`\): unknown call option :timout in :snakepit \(did you mean :timeout\?\); call options are :timeout, /,
        fn -> Showcase.ping(snakepit: [timout: 1]) end
      )

      assert_refused(
        "SnakepitBridge.Test.Showcase.ping/1 (tool `ping`): call option :timeout must be " <>
          "a positive integer (milliseconds) or :infinity, got -1",
        fn -> Showcase.ping(snakepit: [timeout: -1]) end
      )

      assert_refused(~r/call option :session_id must be a string, got :s/, fn ->
        Showcase.ping(snakepit: [session_id: :s])
      end)

      assert_refused(~r/call options \(:snakepit\) must be a keyword list, got 5/, fn ->
        Showcase.ping(snakepit: 5)
      end)
    end

    test "a value of the wrong kind for each declared type" do
      cases = [
        {"a", "a number (float), got \"1\"", fn -> Showcase.basic_add("1", 2) end},
        {"b", "a number (float), got nil", fn -> Showcase.basic_add(1, nil) end},
        {"count", "an integer (integer), got 1.5",
         fn -> Showcase.stream_data([count: 1.5], & &1) end},
        {"message", "a UTF-8 string (string), got :hi", fn -> Showcase.ping(message: :hi) end},
        {"message", "a UTF-8 string (string), got <<255>>",
         fn -> Showcase.ping(message: <<255>>) end},
        {"data", "a binary (bytes), got [1, 2]", fn -> Showcase.process_binary([1, 2]) end},
        {"tags", "a list (list), got \"a\"", fn -> Showcase.wait_for_event("e", tags: "a") end},
        {"options", "a map (map), got []", fn -> Showcase.wait_for_event("e", options: []) end},
        {"verbose", "a boolean (boolean), got \"yes\"",
         fn -> Showcase.wait_for_event("e", verbose: "yes") end}
      ]

      for {param, what, call} <- cases do
        assert_refused(
          ~r/\(tool `\w+`\): parameter `#{param}` must be #{Regex.escape(what)}/,
          call
        )
      end

      assert_refused(
        "SnakepitBridge.Test.Showcase.ping/1 (tool `ping`): parameter `message` must be a UTF-8 string " <>
          "(string), got nil (leave the option out to let the worker use its default)",
        fn -> Showcase.ping(message: nil) end
      )
    end

    test "a required parameter given as an option, options that are not a keyword list, repeats" do
      assert_refused(
        "SnakepitBridge.Test.Showcase.call_elixir_demo/2 (tool `call_elixir_demo`): parameter " <>
          "`tool_name` is required: pass it as an argument, not as an option",
        fn -> Showcase.call_elixir_demo("x", tool_name: "y") end
      )

      assert_refused(~r/ping\/1 \(tool `ping`\): options must be a keyword list, got %{}/, fn ->
        Showcase.ping(%{})
      end)

      assert_refused(~r/parameter `message` given twice/, fn ->
        Showcase.ping(message: "a", message: "b")
      end)
    end

    test "the ! variants refuse the same way" do
      assert_refused(
        ~r/^SnakepitBridge.Test.Showcase.ping!\/1 \(tool `ping`\): unknown option :mesage/,
        fn ->
          Showcase.ping!(mesage: "hi")
        end
      )

      assert_refused(~r/parameter `a` must be a number/, fn -> Showcase.basic_add!("1", 2) end)
    end
  end

  describe "the generated module" do
    test "__tools__/0 returns the manifest's tools as decoded JSON" do
      tools = Showcase.__tools__()
      assert length(tools) == 8
      ping = Enum.find(tools, &(&1["name"] == "ping"))

      assert ping["parameters"] == [
               %{
                 "name" => "message",
                 "type" => "string",
                 "required" => false,
                 "description" => "",
                 "default" => "pong"
               }
             ]
    end

    test "functions and arities: required..., opts \\\\ [] (and callback for streaming)" do
      exported = Showcase.__info__(:functions)

      for fun <- [
            ping: 0,
            ping: 1,
            ping!: 1,
            basic_add: 2,
            basic_add: 3,
            basic_add!: 3,
            process_binary: 1,
            process_binary: 2,
            stream_data: 1,
            stream_data: 2,
            stream_data!: 2,
            echo: 1,
            call_elixir_demo: 2,
            wait_for_event: 2
          ] do
        assert fun in exported, "#{inspect(fun)} missing"
      end

      refute {:stream_data, 0} in exported
      # The rest parameter (`kwargs`) is no argument: it collects the keyword options.
      refute {:echo, 2} in exported
      refute {:call_elixir_demo, 3} in exported
    end

    test "docs: the tool's description and its parameters" do
      {:docs_v1, _, :elixir, _, _, _, docs} = Code.fetch_docs(Showcase)

      docs =
        Map.new(docs, fn {{kind, name, arity}, _, signature, doc, _} ->
          {{kind, name, arity}, {signature, doc}}
        end)

      {["process_binary(data, opts \\\\ [])"], %{"en" => doc}} =
        docs[{:function, :process_binary, 2}]

      assert doc =~ "Process the binary parameter `data`: `checksum` (SHA-256) or `reverse`"

      assert doc =~
               "Calls the worker tool `process_binary` through `Snakepit.execute/3` on pool `:showcase`."

      assert doc =~ "* `data` (bytes, required, positional, sent in `binary_parameters`)"
      assert doc =~ ~s[* `operation` (string, option `:operation`, default `"checksum"`)]

      {["stream_data(opts \\\\ [], callback)"], %{"en" => doc}} =
        docs[{:function, :stream_data, 2}]

      assert doc =~ "through `Snakepit.execute_stream/4`"
      assert doc =~ "* `count` (integer, option `:count`, default `5`)"
      assert doc =~ "* `delay` (float, option `:delay`, default `1.0`)"

      {_, %{"en" => doc}} = docs[{:function, :wait_for_event, 2}]
      assert doc =~ "* `timeout` (float, option `:timeout`, default `1.0`) - Seconds to wait."
      assert doc =~ "go under `snakepit: [...]`"

      {["echo(opts \\\\ [])"], %{"en" => doc}} = docs[{:function, :echo, 1}]
      assert doc =~ "Any other keyword option is sent to the tool as a parameter."
      refute doc =~ "kwargs"

      {_, %{"en" => doc}} = docs[{:function, :basic_add!, 3}]
      assert doc =~ "raises `SnakepitBridge.ToolError`"
    end

    test "specs: the declared types, the result from result_schema, term() otherwise" do
      {:ok, specs} = Code.Typespec.fetch_specs(Showcase)

      specs =
        Map.new(specs, fn {{name, arity}, [spec]} ->
          {{name, arity},
           name
           |> Code.Typespec.spec_to_quoted(spec)
           |> Macro.to_string()
           |> String.replace(~r/\s+/, " ")}
        end)

      assert specs[{:basic_add, 3}] ==
               "basic_add(number(), number(), [{:snakepit, SnakepitBridge.Tools.call_options()}]) :: {:ok, number()} | {:error, Snakepit.Error.t()}"

      assert specs[{:basic_add!, 3}] =~ ":: number()"

      assert specs[{:ping, 1}] =~
               "ping(message: String.t(), snakepit: SnakepitBridge.Tools.call_options()) :: {:ok, map()}"

      assert specs[{:process_binary, 2}] =~
               "process_binary(binary(), operation: String.t(), snakepit:"

      assert specs[{:process_binary, 2}] =~ ":: {:ok, term()} | {:error, Snakepit.Error.t()}"

      assert specs[{:stream_data, 2}] ==
               "stream_data( [count: integer(), delay: number(), snakepit: SnakepitBridge.Tools.call_options()], (term() -> any()) ) :: :ok | {:error, Snakepit.Error.t()}"

      assert specs[{:wait_for_event, 2}] =~
               "wait_for_event(String.t(), timeout: number(), tags: list(), options: map(), verbose: boolean(), hint: term(),"

      assert specs[{:wait_for_event, 2}] =~ ":: {:ok, non_neg_integer() | nil}"
      assert specs[{:echo, 1}] =~ "{atom(), term()}"
    end
  end

  # Refused before anything is sent: the call raises instead of reaching snakepit.
  defp assert_refused(message, fun), do: assert_raise(ArgumentError, message, fun)

  defp value_error do
    %Snakepit.Error{
      category: :worker,
      message: "Request failed",
      details: %{
        reason: %Snakepit.Error.ValueError{message: "This is a demonstration ValueError"},
        command: "error_demo"
      }
    }
  end
end
