defmodule SnakepitBridge.Test.Showcase do
  @moduledoc "Bindings of the showcase worker's tools, from test/fixtures/showcase_tools.json."
  use SnakepitBridge.Tools, manifest: "test/fixtures/showcase_tools.json", pool: :showcase
end

defmodule SnakepitBridge.Test.DefaultPool do
  @moduledoc false
  use SnakepitBridge.Tools, manifest: "test/fixtures/showcase_tools.json", call_options_key: :call
end

defmodule SnakepitBridge.Test.ShowcaseAdapter do
  @moduledoc false
  use SnakepitBridge.Adapter, executable: "/bin/sh", args: ["--model", :small]
end

defmodule SnakepitBridge.Test.ConfiguredAdapter do
  @moduledoc false
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, executable: "/no/such/worker"
end

defmodule SnakepitBridge.Test.RealShowcase do
  @moduledoc """
  Bindings of the real showcase worker's tools, from test/fixtures/showcase_worker_tools.json,
  the worker's own `--snakepit-describe` output (tests/worker_describe.rs in the Rust crate
  fails when it is out of date).
  """
  use SnakepitBridge.Tools,
    manifest: "test/fixtures/showcase_worker_tools.json",
    pool: :showcase
end
