using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Whisper.Bench;

/// <summary>
/// An XMPP server (ejabberd, started by bench/ejabberd/ejabberd.sh) through a minimal client on raw TCP, one
/// stream per user: account created in band (XEP-0077), SASL PLAIN, resource binding, stream management
/// (XEP-0198) as mobile clients use it, initial presence. Direct chats are messages of type chat between
/// the two users; a group is a room (XEP-0045) that its members join. The key travels in the message's id.
/// <para>
/// Acknowledgement, comparable to Whisper's (stored before the sender hears back): a one-to-one message is
/// followed by a stream management request &lt;r/&gt;, and it is acknowledged by the first &lt;a h='n'/&gt;
/// whose count covers it. ejabberd handles a stream's elements in order, and by then it has archived the
/// message in the sender's archive and routed it (the recipient's copy goes into the recipient's archive
/// before it is delivered: two rows per message). A group message is acknowledged when the room reflects it to its sender: a room
/// archives a message before it broadcasts it to the occupants.
/// </para>
/// </summary>
public sealed class XmppTransport(Uri server) : IChatTransport
{
    private const string Password = "benchmark password";
    private static readonly string Body = System.Security.SecurityElement.Escape(WhisperHubTransport.Content);
    private readonly string domain = server.AbsolutePath.Trim('/');
    // Accounts and rooms of this run: the server keeps those of earlier runs.
    private readonly string prefix = $"b{Guid.NewGuid():N}"[..9];
    private readonly List<XmppStream> streams = [];
    private readonly ConcurrentDictionary<string, TaskCompletionSource> reflections = new();
    private IReadOnlyList<int[]> chats = [];
    private int chatSize;

    public string Description => chatSize == 2 ? "XMPP messages acknowledged by stream management" : "XMPP rooms (MUC)";

    private string Jid(int user) => $"{prefix}-{user}@{domain}";

    private string Room(int chat) => $"{prefix}-room{chat}@conference.{domain}";

    public async Task<IReadOnlyList<int[]>> SetUpAsync(int userCount, int chatSize, Action<string?, int, int> received, CancellationToken cancellationToken)
    {
        this.chatSize = chatSize;
        var members = new List<int[]>();
        for (var first = 0; first + chatSize <= userCount; first += chatSize)
        {
            members.Add(Enumerable.Range(first, chatSize).ToArray());
        }

        using var throttle = new SemaphoreSlim(16);
        streams.AddRange(await Task.WhenAll(Enumerable.Range(0, members.Count * chatSize).Select(async user =>
        {
            await throttle.WaitAsync(cancellationToken);
            try
            {
                return await ConnectAsync(user, received, cancellationToken);
            }
            finally
            {
                throttle.Release();
            }
        })));

        if (chatSize > 2)
        {
            await Task.WhenAll(members.Select(async (chat, number) =>
            {
                // The first member creates the room (an instant room: the defaults, with the archive on);
                // the others join once it is open.
                var created = await streams[chat[0]].JoinAsync(Room(number), $"{chat[0]}", cancellationToken);
                if (created)
                {
                    await streams[chat[0]].QueryAsync(
                        $"<iq type='set' to='{Room(number)}' id='configure'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>",
                        "configure", cancellationToken);
                }

                await Task.WhenAll(chat.Skip(1).Select(member => streams[member].JoinAsync(Room(number), $"{member}", cancellationToken)));
            }));
        }

        chats = members;
        return chats;
    }

    private async Task<XmppStream> ConnectAsync(int user, Action<string?, int, int> received, CancellationToken cancellationToken)
    {
        var name = $"{prefix}-{user}";
        var stream = await XmppStream.ConnectAsync(server.Host, server.Port, cancellationToken);
        await stream.OpenAsync(domain);
        await stream.WriteAsync($"<iq type='set' id='register'><query xmlns='jabber:iq:register'><username>{name}</username><password>{Password}</password></query></iq>", cancellationToken);
        Expect(await stream.NextAsync(), "iq", "result");
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{name}\0{Password}"));
        await stream.WriteAsync($"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>", cancellationToken);
        Expect(await stream.NextAsync(), "success");
        // The stream restarts after authentication (RFC 6120, 6.4.6).
        var features = await stream.OpenAsync(domain);
        await stream.WriteAsync("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>", cancellationToken);
        Expect(await stream.NextAsync(), "iq", "result");
        if (features.Elements().Any(f => f.Name.LocalName == "session" && f.Element(f.Name.Namespace + "optional") is null))
        {
            await stream.WriteAsync("<iq type='set' id='session'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", cancellationToken);
            Expect(await stream.NextAsync(), "iq", "result");
        }

        await stream.WriteAsync("<enable xmlns='urn:xmpp:sm:3'/>", cancellationToken);
        Expect(await stream.NextAsync(), "enabled");
        stream.Start(message => Arrived(message, user, received));
        // Available: messages to the bare JID reach this resource, instead of offline storage.
        await stream.SendAsync("<presence/>", cancellationToken);
        return stream;
    }

    private static void Expect(XElement? element, string name, string? type = null)
    {
        if (element is null || element.Name.LocalName != name || (type is not null && (string?)element.Attribute("type") != type))
        {
            throw new InvalidOperationException($"expected <{name}{(type is null ? "" : $" type='{type}'")}>, the server sent {element?.ToString() ?? "nothing"}");
        }
    }

    /// <summary>A message with a body: a copy for this user, or in a room, this user's own message reflected.</summary>
    private void Arrived(XElement message, int recipient, Action<string?, int, int> received)
    {
        var key = (string?)message.Attribute("id");
        var from = (string?)message.Attribute("from") ?? "";
        if ((string?)message.Attribute("type") == "groupchat")
        {
            // From room@conference.domain/nick, and the nick is the sender's number (the room itself has no nick).
            if (from.IndexOf('/') < 0 || !int.TryParse(from.AsSpan(from.IndexOf('/') + 1), System.Globalization.CultureInfo.InvariantCulture, out var sender))
            {
                return;
            }

            if (sender == recipient)
            {
                if (key is not null && reflections.TryRemove(key, out var reflected))
                {
                    reflected.TrySetResult();
                }
            }
            else
            {
                received(key, sender, recipient);
            }
        }
        else
        {
            // From prefix-number@domain/resource.
            var local = from.AsSpan(0, Math.Max(0, from.IndexOf('@')));
            if (int.TryParse(local[(local.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var sender))
            {
                received(key, sender, recipient);
            }
        }
    }

    public async Task SendAsync(int sender, int chat, string key, CancellationToken cancellationToken)
    {
        if (chatSize == 2)
        {
            var recipient = chats[chat][0] == sender ? chats[chat][1] : chats[chat][0];
            await streams[sender].SendAcknowledgedAsync($"<message to='{Jid(recipient)}' type='chat' id='{key}'><body>{Body}</body></message>", cancellationToken);
            return;
        }

        var reflected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reflections[key] = reflected;
        try
        {
            await streams[sender].SendAsync($"<message to='{Room(chat)}' type='groupchat' id='{key}'><body>{Body}</body></message>", cancellationToken);
            await reflected.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        finally
        {
            reflections.TryRemove(key, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(streams.Select(stream => stream.CloseAsync()));
    }
}

/// <summary>
/// One client-to-server XMPP stream: a reader loop over the server's stream (System.Xml, one top-level
/// element at a time) and serialised writes. Counts stanzas both ways for stream management.
/// </summary>
internal sealed class XmppStream : IDisposable
{
    private const string StreamManagement = "urn:xmpp:sm:3";
    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true, CloseInput = false,
    };

    private readonly TcpClient client;
    private readonly NetworkStream network;
    private readonly SemaphoreSlim writing = new(1, 1);
    // Stanzas sent since stream management was enabled, and the sends still waiting for an <a h/> covering them.
    private uint sent;
    private readonly Queue<(uint Number, TaskCompletionSource Acknowledged)> unacknowledged = new();
    // Stanzas received since stream management was enabled: the h of our answers to the server's <r/>.
    private uint handled;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<XElement>> replies = new();
    private XmlReader? reader;
    private Task reading = Task.CompletedTask;
    private volatile bool closing;

    private XmppStream(TcpClient client)
    {
        this.client = client;
        network = client.GetStream();
    }

    public static async Task<XmppStream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cancellationToken);
        return new XmppStream(client);
    }

    /// <summary>Opens (or, after authentication, reopens) the stream and answers the server's features.</summary>
    public async Task<XElement> OpenAsync(string domain)
    {
        await WriteAsync($"<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", CancellationToken.None);
        // A new document: the reader of the previous stream has read nothing past its last element,
        // because the server sends nothing more until it receives the new header.
        reader?.Dispose();
        reader = XmlReader.Create(network, ReaderSettings);
        var features = await NextAsync();
        return features is { Name.LocalName: "features" } ? features : throw new InvalidOperationException($"expected stream features, the server sent {features}");
    }

    /// <summary>The next top-level element of the server's stream, or null once it has ended.</summary>
    public async Task<XElement?> NextAsync()
    {
        while (await reader!.ReadAsync())
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == 1)
            {
                // The subtree ends at this element's end tag: nothing past it is waited for.
                using var element = reader.ReadSubtree();
                return await XElement.LoadAsync(element, LoadOptions.None, CancellationToken.None);
            }
        }

        return null;
    }

    public async Task WriteAsync(string xml, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        await writing.WaitAsync(cancellationToken);
        try
        {
            await network.WriteAsync(bytes, cancellationToken);
        }
        finally
        {
            writing.Release();
        }
    }

    /// <summary>Sends a stanza (message, presence or iq): stream management counts it.</summary>
    public async Task SendAsync(string stanza, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(stanza);
        await writing.WaitAsync(cancellationToken);
        try
        {
            sent++;
            await network.WriteAsync(bytes, cancellationToken);
        }
        finally
        {
            writing.Release();
        }
    }

    /// <summary>Sends a stanza and a request for acknowledgement; completes when the server's h covers it.</summary>
    public async Task SendAcknowledgedAsync(string stanza, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(stanza + $"<r xmlns='{StreamManagement}'/>");
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await writing.WaitAsync(cancellationToken);
        try
        {
            sent++;
            lock (unacknowledged)
            {
                unacknowledged.Enqueue((sent, acknowledged));
            }

            await network.WriteAsync(bytes, cancellationToken);
        }
        finally
        {
            writing.Release();
        }

        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Sends an iq and answers the server's result (an error throws).</summary>
    public async Task<XElement> QueryAsync(string iq, string id, CancellationToken cancellationToken)
    {
        var reply = replies[$"iq:{id}"] = new TaskCompletionSource<XElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        await SendAsync(iq, cancellationToken);
        return await reply.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Enters a room under a nick; completes with the room's presence for this occupant, true if it created the room.</summary>
    public async Task<bool> JoinAsync(string room, string nick, CancellationToken cancellationToken)
    {
        var joined = replies[$"join:{room}"] = new TaskCompletionSource<XElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        // No history on entering: the benchmark counts only the messages sent while it measures.
        await SendAsync($"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>", cancellationToken);
        var presence = await joined.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        return presence.Descendants().Any(e => e.Name.LocalName == "status" && (string?)e.Attribute("code") == "201");
    }

    /// <summary>Starts the reader loop; messages with a body go to <paramref name="arrived"/>.</summary>
    public void Start(Action<XElement> arrived) => reading = Task.Run(() => ReadAsync(arrived));

    private async Task ReadAsync(Action<XElement> arrived)
    {
        try
        {
            while (await NextAsync() is { } element)
            {
                var type = (string?)element.Attribute("type");
                switch (element.Name.LocalName)
                {
                    case "message" or "presence" or "iq":
                        handled++;
                        break;
                    case "r" when element.Name.NamespaceName == StreamManagement:
                        await WriteAsync($"<a xmlns='{StreamManagement}' h='{handled}'/>", CancellationToken.None);
                        continue;
                    case "a" when element.Name.NamespaceName == StreamManagement:
                        Acknowledge(uint.Parse((string)element.Attribute("h")!, System.Globalization.CultureInfo.InvariantCulture));
                        continue;
                    default:
                        continue;
                }

                if (element.Name.LocalName == "message" && type != "error" && element.Elements().Any(e => e.Name.LocalName == "body"))
                {
                    arrived(element);
                }
                else if (element.Name.LocalName == "presence" && ((string?)element.Attribute("from"))?.Split('/') is [var room, _]
                    && element.Descendants().Any(e => e.Name.LocalName == "status" && (string?)e.Attribute("code") == "110")
                    && replies.TryRemove($"join:{room}", out var joined))
                {
                    // Status 110: the room's presence for this very occupant, so the entry is complete.
                    joined.TrySetResult(element);
                }
                else if (element.Name.LocalName == "presence" && type == "error"
                    && ((string?)element.Attribute("from"))?.Split('/')[0] is { } refused && replies.TryRemove($"join:{refused}", out var failed))
                {
                    failed.TrySetException(new InvalidOperationException($"the room refused entry: {element}"));
                }
                else if (element.Name.LocalName == "iq" && type is "result" or "error" && replies.TryRemove($"iq:{(string?)element.Attribute("id")}", out var reply))
                {
                    if (type == "result")
                    {
                        reply.TrySetResult(element);
                    }
                    else
                    {
                        reply.TrySetException(new InvalidOperationException($"the server answered {element}"));
                    }
                }
                else if (element.Name.LocalName == "message" && type == "error")
                {
                    Console.Error.WriteLine($"xmpp: the server returned a message: {element}");
                }
            }
        }
        catch (Exception exception)
        {
            if (!closing)
            {
                Console.Error.WriteLine($"xmpp: a stream failed: {exception.Message}");
            }
        }
    }

    private void Acknowledge(uint h)
    {
        lock (unacknowledged)
        {
            while (unacknowledged.TryPeek(out var oldest) && oldest.Number <= h)
            {
                unacknowledged.Dequeue().Acknowledged.TrySetResult();
            }
        }
    }

    public async Task CloseAsync()
    {
        closing = true;
        try
        {
            await WriteAsync("</stream:stream>", CancellationToken.None);
        }
        catch (IOException)
        {
        }

        // The server answers with its own end of stream; past that, closing the socket ends the reader.
        await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(5)));
        client.Dispose();
        await reading;
        Dispose();
    }

    public void Dispose()
    {
        client.Dispose();
        reader?.Dispose();
        writing.Dispose();
    }
}
