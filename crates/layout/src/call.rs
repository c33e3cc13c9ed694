//! The calls the adapter traces under `--debug`: [`Call`], the number the
//! adapter passes to the `trace` hook, and [`CALL_NAMES`], their text. The
//! text reaches the adapter only through the configuration
//! ([`Config::call_names`](crate::Config::call_names)), written there only
//! under `--debug`.

/// Declares every call (and every other event) the adapter reports under
/// `--debug` once: [`Call`], the number the adapter passes to the
/// [`TRACE`](crate::TRACE) hook, and [`CALL_NAMES`], the text the library
/// writes into the configuration when the policy asks for debug output.
macro_rules! calls {
    ($($variant:ident = $name:literal,)*) => {
        /// A call or event that the adapter traces, denies or traps on: its
        /// number in the [`TRACE`](crate::TRACE) hook, and its index in
        /// [`CALL_NAMES`].
        ///
        /// Adding, removing or reordering entries changes the numbers, so the
        /// adapter must be rebuilt (`./build-adapter.sh --check` catches a
        /// stale one).
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Call {
            $(#[doc = $name] $variant,)*
        }

        /// The text of each [`Call`], indexed by its number. Only the library
        /// uses it: the adapter never refers to it, so the names are not in
        /// the adapter's data, and reach it only through the configuration.
        pub const CALL_NAMES: &[&str] = &[$($name,)*];
    };
}

calls! {
    GetEnvironment = "wasi:cli/environment.get-environment",
    GetArguments = "wasi:cli/environment.get-arguments",
    InitialCwd = "wasi:cli/environment.initial-cwd",
    Exit = "wasi:cli/exit.exit",
    ExitWithCode = "wasi:cli/exit.exit-with-code",
    GetStdin = "wasi:cli/stdin.get-stdin",
    GetStdout = "wasi:cli/stdout.get-stdout",
    GetStderr = "wasi:cli/stderr.get-stderr",
    GetTerminalStdin = "wasi:cli/terminal-stdin.get-terminal-stdin",
    GetTerminalStdout = "wasi:cli/terminal-stdout.get-terminal-stdout",
    GetTerminalStderr = "wasi:cli/terminal-stderr.get-terminal-stderr",
    StdinReadViaStream = "wasi:cli/stdin.read-via-stream",
    StdoutWriteViaStream = "wasi:cli/stdout.write-via-stream",
    StderrWriteViaStream = "wasi:cli/stderr.write-via-stream",
    MonotonicNow = "wasi:clocks/monotonic-clock.now",
    MonotonicResolution = "wasi:clocks/monotonic-clock.resolution",
    SubscribeInstant = "wasi:clocks/monotonic-clock.subscribe-instant",
    SubscribeDuration = "wasi:clocks/monotonic-clock.subscribe-duration",
    WaitUntil = "wasi:clocks/monotonic-clock.wait-until",
    WaitFor = "wasi:clocks/monotonic-clock.wait-for",
    WallNow = "wasi:clocks/wall-clock.now",
    WallResolution = "wasi:clocks/wall-clock.resolution",
    GetRandomBytes = "wasi:random/random.get-random-bytes",
    GetRandomU64 = "wasi:random/random.get-random-u64",
    GetInsecureRandomBytes = "wasi:random/insecure.get-insecure-random-bytes",
    GetInsecureRandomU64 = "wasi:random/insecure.get-insecure-random-u64",
    InsecureSeed = "wasi:random/insecure-seed.insecure-seed",
    Poll = "wasi:io/poll.poll",
    Read = "wasi:io/streams.input-stream.read",
    BlockingRead = "wasi:io/streams.input-stream.blocking-read",
    Skip = "wasi:io/streams.input-stream.skip",
    BlockingSkip = "wasi:io/streams.input-stream.blocking-skip",
    CheckWrite = "wasi:io/streams.output-stream.check-write",
    Write = "wasi:io/streams.output-stream.write",
    BlockingWriteAndFlush = "wasi:io/streams.output-stream.blocking-write-and-flush",
    Flush = "wasi:io/streams.output-stream.flush",
    BlockingFlush = "wasi:io/streams.output-stream.blocking-flush",
    WriteZeroes = "wasi:io/streams.output-stream.write-zeroes",
    BlockingWriteZeroesAndFlush = "wasi:io/streams.output-stream.blocking-write-zeroes-and-flush",
    Splice = "wasi:io/streams.output-stream.splice",
    BlockingSplice = "wasi:io/streams.output-stream.blocking-splice",
    StoreGet = "wasi:config/store.get",
    StoreGetAll = "wasi:config/store.get-all",
    InstanceNetwork = "wasi:sockets/instance-network.instance-network",
    CreateTcpSocket = "wasi:sockets/tcp-create-socket.create-tcp-socket",
    CreateUdpSocket = "wasi:sockets/udp-create-socket.create-udp-socket",
    ResolveAddresses = "wasi:sockets/ip-name-lookup.resolve-addresses",
    TcpSocketCreate = "wasi:sockets/types.tcp-socket.create",
    UdpSocketCreate = "wasi:sockets/types.udp-socket.create",
    ResolveNextAddress = "wasi:sockets/ip-name-lookup.resolve-address-stream.resolve-next-address",
    TcpStartBind = "wasi:sockets/tcp.tcp-socket.start-bind",
    TcpStartConnect = "wasi:sockets/tcp.tcp-socket.start-connect",
    TcpFinishConnect = "wasi:sockets/tcp.tcp-socket.finish-connect",
    TcpStartListen = "wasi:sockets/tcp.tcp-socket.start-listen",
    TcpAccept = "wasi:sockets/tcp.tcp-socket.accept",
    TcpShutdown = "wasi:sockets/tcp.tcp-socket.shutdown",
    UdpStartBind = "wasi:sockets/udp.udp-socket.start-bind",
    UdpStream = "wasi:sockets/udp.udp-socket.stream",
    UdpReceive = "wasi:sockets/udp.incoming-datagram-stream.receive",
    UdpSend = "wasi:sockets/udp.outgoing-datagram-stream.send",
    OutgoingBodyFinish = "wasi:http/types.outgoing-body.finish",
    Handle = "wasi:http/outgoing-handler.handle",
    ResponseOutparamSet = "wasi:http/types.response-outparam.set",
    Serve = "wasi:http/incoming-handler.handle",
    RunAnswered = "command answered the request",
    RunOutsideRequest = "a served command asked for its request outside one",
    RunTwice = "a second request in one instance: a served command needs a fresh instance per request",
    ReadViaStream = "wasi:filesystem/types.descriptor.read-via-stream",
    WriteViaStream = "wasi:filesystem/types.descriptor.write-via-stream",
    AppendViaStream = "wasi:filesystem/types.descriptor.append-via-stream",
    SetSize = "wasi:filesystem/types.descriptor.set-size",
    ReadFile = "wasi:filesystem/types.descriptor.read",
    WriteFile = "wasi:filesystem/types.descriptor.write",
    ReadDirectory = "wasi:filesystem/types.descriptor.read-directory",
    CreateDirectoryAt = "wasi:filesystem/types.descriptor.create-directory-at",
    Stat = "wasi:filesystem/types.descriptor.stat",
    StatAt = "wasi:filesystem/types.descriptor.stat-at",
    LinkAt = "wasi:filesystem/types.descriptor.link-at",
    OpenAt = "wasi:filesystem/types.descriptor.open-at",
    RemoveDirectoryAt = "wasi:filesystem/types.descriptor.remove-directory-at",
    RenameAt = "wasi:filesystem/types.descriptor.rename-at",
    SymlinkAt = "wasi:filesystem/types.descriptor.symlink-at",
    UnlinkFileAt = "wasi:filesystem/types.descriptor.unlink-file-at",
    GetDirectories = "wasi:filesystem/preopens.get-directories",
    PollWithoutPollables = "wasi:io/poll.poll called with no pollables",
    NodeOutOfRange = "virtual filesystem node out of range",
    RuntimeFileOutsidePreopens = "runtime file outside the host's preopens",
    RuntimeFileRefused = "runtime file refused by the host",
    RemapOutsidePreopens = "host directory to remap outside the host's preopens",
    RemapRefused = "host directory to remap refused by the host",
    ClientSend = "wasi:http/client.send",
    P3TcpBind = "wasi:sockets/types.tcp-socket.bind",
    P3TcpConnect = "wasi:sockets/types.tcp-socket.connect",
    P3TcpListen = "wasi:sockets/types.tcp-socket.listen",
    P3UdpBind = "wasi:sockets/types.udp-socket.bind",
    P3UdpConnect = "wasi:sockets/types.udp-socket.connect",
    P3UdpSend = "wasi:sockets/types.udp-socket.send",
    P3UdpReceive = "wasi:sockets/types.udp-socket.receive",
    RemapInsidePreopen = "host directory to remap lies inside a host preopen, which WASI 0.3 cannot open there: preopen it on the host itself",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_names_match_the_calls() {
        assert_eq!(
            CALL_NAMES[Call::GetStdout as usize],
            "wasi:cli/stdout.get-stdout"
        );
        assert_eq!(
            CALL_NAMES[Call::Handle as usize],
            "wasi:http/outgoing-handler.handle"
        );
        assert!(CALL_NAMES.len() <= u16::MAX as usize);
        for (i, name) in CALL_NAMES.iter().enumerate() {
            assert!(!name.is_empty() && !name.contains('('), "{name}");
            assert!(!CALL_NAMES[..i].contains(name), "{name} twice");
        }
    }
}
