using Whisper.Client;
using Whisper.Server.Tests.Infrastructure;

namespace Whisper.Server.Tests.Faults;

/// <summary>
/// One user of a load, through the client library: it sends over REST, or over the hub when it has one,
/// and a hub client records every message the library hands it, per chat, in the order handed.
/// </summary>
public sealed class LoadClient : IAsyncDisposable
{
    private readonly Dictionary<Guid, List<Message>> received = [];

    private LoadClient(string name, WhisperClient rest, Uri server, bool overHub)
    {
        Name = name;
        Rest = rest;
        Server = server;
        OverHub = overHub;
    }

    /// <summary>Unique in the test run; every clientMessageId of this client starts with it.</summary>
    public string Name { get; }

    public WhisperClient Rest { get; }

    /// <summary>The node this client talks to.</summary>
    public Uri Server { get; }

    public bool OverHub { get; }

    public WhisperHub? Hub { get; private set; }

    public Guid UserId => Rest.Session!.User.Id;

    /// <summary>The chats it writes into, in turn.</summary>
    public List<Guid> ChatIds { get; } = [];

    public static async Task<LoadClient> RegisterAsync(Uri server, bool overHub)
    {
        var name = Names.Unique("load");
        var rest = new WhisperClient(server);
        await rest.RegisterAsync(name, TestUser.Password);
        return new LoadClient(name, rest, server, overHub);
    }

    /// <summary>
    /// Opens the hub with a short reconnect delay (the server comes back within seconds). Connected
    /// once its chats exist, so it follows each from seq 1.
    /// </summary>
    public async Task ConnectHubAsync()
    {
        Hub = await WhisperHub.ConnectAsync(Rest, maxRetryDelay: TimeSpan.FromSeconds(1));
        Hub.MessageCreated += message =>
        {
            lock (received)
            {
                (received.TryGetValue(message.ChatId, out var list) ? list : received[message.ChatId] = []).Add(message);
            }
        };
    }

    /// <summary>What the hub has handed over for a chat so far, in order.</summary>
    public IReadOnlyList<Message> ReceivedIn(Guid chatId)
    {
        lock (received)
        {
            return received.TryGetValue(chatId, out var list) ? [.. list] : [];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Hub is not null)
        {
            await Hub.DisposeAsync();
        }

        Rest.Dispose();
    }
}

/// <summary>Load clients, each in a direct chat with one other and a small group, half of them over the hub.</summary>
public sealed class LoadClients : IAsyncDisposable
{
    public const int GroupSize = 5;

    private LoadClients(IReadOnlyList<LoadClient> all, IReadOnlyList<Guid> chatIds)
    {
        All = all;
        ChatIds = chatIds;
    }

    public IReadOnlyList<LoadClient> All { get; }

    public IReadOnlyList<Guid> ChatIds { get; }

    /// <summary>
    /// Clients 2k and 2k+1 share a direct chat, clients 5g..5g+4 a group. <paramref name="serverOf"/> says
    /// which node each client talks to. In every pair one client uses the hub and one REST, taking turns
    /// which of the two, so with pairs spread over two nodes each node has senders and receivers of both kinds.
    /// </summary>
    public static async Task<LoadClients> CreateAsync(int count, Func<int, Uri> serverOf)
    {
        Assert.True(count % 2 == 0 && count % GroupSize == 0, "Whole pairs and whole groups.");
        var clients = new LoadClient[count];
        // A few at a time: registering hashes a password, which is slow on purpose.
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (i, _) => clients[i] = await LoadClient.RegisterAsync(serverOf(i), overHub: i % 2 == i / 2 % 2));

        var chatIds = new List<Guid>();
        for (var k = 0; k < count / 2; k++)
        {
            var direct = await clients[2 * k].Rest.OpenDirectChatAsync(clients[(2 * k) + 1].UserId);
            clients[2 * k].ChatIds.Add(direct.Id);
            clients[(2 * k) + 1].ChatIds.Add(direct.Id);
            chatIds.Add(direct.Id);
        }

        for (var g = 0; g < count / GroupSize; g++)
        {
            var members = clients.Skip(g * GroupSize).Take(GroupSize).ToList();
            var group = await members[0].Rest.CreateGroupAsync($"load {g}", members.Skip(1).Select(m => m.UserId));
            members.ForEach(m => m.ChatIds.Add(group.Id));
            chatIds.Add(group.Id);
        }

        await Task.WhenAll(clients.Where(c => c.OverHub).Select(c => c.ConnectHubAsync()));
        return new LoadClients(clients, chatIds);
    }

    /// <summary>A member of each chat, to read it back.</summary>
    public LoadClient ReaderOf(Guid chatId) => All.First(c => c.ChatIds.Contains(chatId));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in All)
        {
            await client.DisposeAsync();
        }
    }
}
