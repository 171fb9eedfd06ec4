using Whisper.Client;

namespace Whisper.Server.Tests.Faults;

/// <summary>
/// Holds what the server acknowledged against what it stores, read back through the API as a client
/// catching up reads it: every acknowledged message stored exactly once with the id and seq it was
/// answered with, and every chat's seq running 1..N with no gap and no twin.
/// </summary>
public sealed record StoreAudit(int Stored, int Lost, int Duplicated, int StoredButNeverAcknowledged, int Chats, int ChatsWithBadSeq, IReadOnlyList<string> Problems)
{
    /// <summary>For the report: whether every chat's seq ran 1..N.</summary>
    public string SeqSummary => ChatsWithBadSeq == 0 ? $"seq 1..N without gaps in all {Chats} chats" : $"seq NOT 1..N in {ChatsWithBadSeq} of {Chats} chats";

    public static async Task<StoreAudit> CheckAsync(SendLoad load, LoadClients clients)
    {
        var problems = new List<string>();
        var stored = new List<Message>();
        var chatsWithBadSeq = 0;
        foreach (var chatId in clients.ChatIds)
        {
            var history = await HistoryAsync(clients.ReaderOf(chatId).Rest, chatId);
            var seqs = history.Select(m => m.Seq).ToList();
            if (!seqs.SequenceEqual(Enumerable.Range(1, seqs.Count).Select(i => (long)i)))
            {
                chatsWithBadSeq++;
                problems.Add($"chat {chatId}: seq is not 1..{seqs.Count}: {Describe(seqs)}");
            }

            stored.AddRange(history);
        }

        // The server keeps a clientMessageId once per sender; the load makes them unique over all senders, and
        // gives every message its own text, so a second copy shows however it was stored (with the key or without).
        var byClientId = stored.Where(m => m.ClientMessageId is not null).ToLookup(m => (m.SenderId, m.ClientMessageId!));
        var duplicated = stored.GroupBy(m => (m.SenderId, m.Content)).Sum(copies => copies.Count() - 1)
            + stored.GroupBy(m => m.Id).Sum(copies => copies.Count() - 1);

        // Lost: the message the server answered with (its id, chat, seq and text) is not what is stored.
        var lost = 0;
        var byId = stored.ToLookup(m => m.Id);
        var acknowledgements = load.Acknowledgements;
        foreach (var acknowledgement in acknowledgements)
        {
            var answer = acknowledgement.Message;
            if (!byId[answer.Id].Any(m => m.ChatId == answer.ChatId && m.Seq == answer.Seq && m.Content == answer.Content && m.SenderId == acknowledgement.Client.UserId))
            {
                lost++;
                problems.Add($"{acknowledgement.ClientMessageId} was acknowledged as {answer.Id} seq {answer.Seq} but is not stored as such" +
                    (byClientId[(acknowledgement.Client.UserId, acknowledgement.ClientMessageId)].FirstOrDefault() is { } other ? $" (stored: {other.Id} seq {other.Seq})" : ""));
            }
            else if (answer.ClientMessageId != acknowledgement.ClientMessageId)
            {
                problems.Add($"{acknowledgement.ClientMessageId} was answered with clientMessageId {answer.ClientMessageId ?? "null"}");
            }
        }

        var answeredTwice = acknowledgements.GroupBy(a => a.ClientMessageId).Count(g => g.Count() > 1)
            + acknowledgements.GroupBy(a => a.Message.Id).Count(g => g.Count() > 1);
        if (answeredTwice > 0)
        {
            problems.Add($"{answeredTwice} messages were answered more than once, or two sends with one answer");
        }

        // Every send is retried until answered, so a stored message that no client was told about is a
        // copy nobody asked for (or a send given up at the deadline, reported on its own).
        var acknowledgedIds = acknowledgements.Select(a => a.ClientMessageId).ToHashSet();
        var neverAcknowledged = stored.Count(m => m.ClientMessageId is null || !acknowledgedIds.Contains(m.ClientMessageId));
        var abandoned = load.Abandoned.Select(a => a.ClientMessageId).ToHashSet();
        var unexplained = stored.Where(m => m.ClientMessageId is null || (!acknowledgedIds.Contains(m.ClientMessageId) && !abandoned.Contains(m.ClientMessageId))).ToList();
        if (unexplained.Count > 0)
        {
            problems.Add($"{unexplained.Count} stored messages were never acknowledged to their sender, e.g. {unexplained[0].ClientMessageId ?? unexplained[0].Id.ToString()}");
        }

        if (duplicated > 0)
        {
            problems.Add($"{duplicated} stored copies too many");
        }

        return new StoreAudit(stored.Count, lost, duplicated, neverAcknowledged, clients.ChatIds.Count, chatsWithBadSeq, problems);
    }

    /// <summary>
    /// Each hub client saw every message of its chats exactly once, in seq order: live, and through
    /// the client library's catch-up after it reconnected. Waits (bounded) for the last events to arrive.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CheckHubClientsAsync(LoadClients clients)
    {
        var problems = new List<string>();
        foreach (var client in clients.All.Where(c => c.Hub is not null))
        {
            // Anything still missing (an event lost with a connection) is fetched now, as after a reconnect.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await client.Hub!.CatchUpAsync(timeout.Token);
            foreach (var chatId in client.ChatIds)
            {
                var expected = await HistoryAsync(client.Rest, chatId);
                problems.AddRange(Compare($"{client.Name} (live) in chat {chatId}", expected, client.ReceivedIn(chatId)));
            }
        }

        return problems;
    }

    /// <summary>
    /// A client that was away the whole time catches up from seq 0 through the client library and sees
    /// every message of its chats exactly once, in seq order.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CheckCatchUpAsync(LoadClient client)
    {
        var problems = new List<string>();
        var expected = new Dictionary<Guid, IReadOnlyList<Message>>();
        foreach (var chatId in client.ChatIds)
        {
            expected[chatId] = await HistoryAsync(client.Rest, chatId);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var hub = await WhisperHub.ConnectAsync(client.Rest, resumeFrom: client.ChatIds.ToDictionary(id => id, _ => 0L), cancellationToken: timeout.Token);
        // The catch-up ran inside ConnectAsync: what it delivered waits in the hub's reader.
        var seen = client.ChatIds.ToDictionary(id => id, _ => new List<Message>());
        var total = expected.Values.Sum(messages => messages.Count);
        var count = 0;
        if (total > 0)
        {
            await foreach (var message in hub.ReadMessagesAsync(timeout.Token))
            {
                seen[message.ChatId].Add(message);
                if (++count == total)
                {
                    break;
                }
            }
        }

        foreach (var chatId in client.ChatIds)
        {
            problems.AddRange(Compare($"{client.Name} (catch-up) in chat {chatId}", expected[chatId], seen[chatId]));
        }

        return problems;
    }

    private static IEnumerable<string> Compare(string who, IReadOnlyList<Message> expected, IReadOnlyList<Message> seen)
    {
        if (!seen.Select(m => m.Id).SequenceEqual(expected.Select(m => m.Id)))
        {
            yield return $"{who}: saw {seen.Count} messages, seq {Describe(seen.Select(m => m.Seq).ToList())}; stored {expected.Count}";
        }
    }

    /// <summary>The whole history of a chat, page by page after the last seq read.</summary>
    private static async Task<IReadOnlyList<Message>> HistoryAsync(WhisperClient reader, Guid chatId)
    {
        var all = new List<Message>();
        Page<Message> page;
        do
        {
            page = await reader.ListMessagesAsync(chatId, after: all.Count > 0 ? all[^1].Seq : 0, limit: 200);
            all.AddRange(page.Items);
        }
        while (page.HasMore && page.Items.Count > 0);

        return all;
    }

    /// <summary>A seq list in short: its first wrong place.</summary>
    private static string Describe(IReadOnlyList<long> seqs)
    {
        var wrong = Enumerable.Range(0, seqs.Count).FirstOrDefault(i => seqs[i] != i + 1, -1);
        return wrong < 0 ? $"1..{seqs.Count}" : $"at position {wrong + 1}: {string.Join(", ", seqs.Skip(Math.Max(0, wrong - 2)).Take(5))}";
    }
}
