//! The CLI's integration tests, linked into one test binary (`it`): a module per former test
//! file, `support` shared by them. None sets the process's environment or installs anything
//! global; each runs `snakepit-tools` and the workers as processes of their own.

mod support;

mod cli;
mod describe;
mod real_host;
mod worker;
