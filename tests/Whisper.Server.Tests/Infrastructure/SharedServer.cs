using Whisper.Server.Tests.Infrastructure;

[assembly: AssemblyFixture(typeof(SharedServer))]

namespace Whisper.Server.Tests.Infrastructure;

/// <summary>
/// One server for the whole assembly with default settings: every test makes its own uniquely named
/// users and chats and never asserts global counts, so all tests can share it and run in parallel.
/// Tests that need other settings start their own <see cref="WhisperServer"/>.
/// </summary>
public sealed class SharedServer : WhisperServer;
