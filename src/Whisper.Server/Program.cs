using Whisper.Server;
using Whisper.Server.Auth;
using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Data;
using Whisper.Server.Files;
using Whisper.Server.Messages;
using Whisper.Server.Operations;
using Whisper.Server.Push;
using Whisper.Server.Realtime;
using Whisper.Server.Receipts;
using Whisper.Server.Users;

// Settings are read at start, not reloaded when appsettings.json changes: reloading watches the whole content root,
// and the default data directory lies under it, so every database and file write woke the watcher (about 8% of a
// busy server's CPU). An operator can still pass --hostBuilder:reloadConfigOnChange=true.
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
{
    builder.WebHost.UseUrls("http://localhost:5080");
}

builder.AddWhisperOptions();
builder.AddWhisperData();
builder.AddWhisperAuth();
builder.AddWhisperRateLimiting();
builder.AddWhisperOperations();
builder.AddWhisperFeatures();
builder.AddWhisperRealtime();
builder.AddWhisperPush();

var app = builder.Build();
await app.PrepareWhisperDataAsync();

app.UseSecurityHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseProblemsForUnsatisfiableRanges();
app.UseKnownRequestCharsets();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapAuthApi();
app.MapUsersApi();
app.MapChatsApi();
app.MapMessagesApi();
app.MapReceiptsApi();
app.MapFilesApi();
app.MapWhisperHub();
app.MapPushApi();
app.MapOperations();
app.MapWebClient();

await app.RunAsync();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
