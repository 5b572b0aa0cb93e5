import Config

if config_env() == :test do
  # Every test VM gets a snakepit instance of its own (lib/snakepit/config.ex data_dir/0,
  # instance_name_identifier/0, instance_token_identifier/0): by default snakepit writes its
  # process-registry DETS file under its own priv/data (shared by every project using the same
  # snakepit, and read-only in the offline bundle), and at start it cleans up the workers of
  # other runs of the same instance (lib/snakepit/pool/process_registry.ex). Concurrent test
  # runs on one machine (CI stages, developers) must not share either.
  instance = "snakepit_bridge_test_#{System.pid()}"

  config :snakepit,
    data_dir: Path.join(System.tmp_dir!(), "snakepit_bridge_test"),
    instance_name: instance,
    instance_token: instance
end
