import Config

if config_env() == :test do
  # Every test VM gets a snakepit instance of its own (lib/snakepit/config.ex data_dir/0,
  # instance_name_identifier/0, instance_token_identifier/0): by default snakepit writes its
  # process-registry DETS file under its own priv/data (shared by every project using the same
  # snakepit, and read-only in the offline bundle), and at start it cleans up the workers of
  # other runs of the same instance (lib/snakepit/pool/process_registry.ex). Concurrent test
  # runs on one machine (CI stages, developers) must not share either.
  prefix = "snakepit_bridge_test_"
  instance = prefix <> System.pid()
  data_dir = Path.join(System.tmp_dir!(), "snakepit_bridge_test")

  # The registry files of test VMs that are gone (process_registry_<name>__<token>.dets).
  for file <- Path.wildcard(Path.join(data_dir, "process_registry_#{prefix}*.dets")),
      [pid | _] =
        file
        |> Path.basename()
        |> String.trim_leading("process_registry_" <> prefix)
        |> String.split("__"),
      not File.exists?("/proc/#{pid}"),
      do: File.rm(file)

  config :snakepit,
    data_dir: data_dir,
    instance_name: instance,
    instance_token: instance
end
