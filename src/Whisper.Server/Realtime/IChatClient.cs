using Whisper.Server.Chats;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;

namespace Whisper.Server.Realtime;

/// <summary>
/// The events the server sends to hub clients. The method names are the wire names of the API
/// contract (camelCase), which is why they break .NET naming here.
/// </summary>
#pragma warning disable IDE1006 // Naming: these are protocol names, not C# names.
public interface IChatClient
{
    Task messageCreated(MessageDto message);

    Task messageUpdated(MessageDto message);

    Task receiptUpdated(ReceiptAdvanced receipt);

    Task presenceChanged(PresenceChanged presence);

    Task typing(TypingEvent typing);

    Task chatCreated(ChatDto chat);

    Task chatUpdated(ChatDto chat);

    Task memberRemoved(MemberRemoved removal);
}
#pragma warning restore IDE1006

public sealed record PresenceChanged(Guid UserId, bool Online, DateTime? LastSeenAt);

public sealed record TypingEvent(Guid ChatId, Guid UserId);

public sealed record MemberRemoved(Guid ChatId, Guid UserId);

/// <summary>The only place group names are made.</summary>
public static class HubGroups
{
    public static string Chat(Guid chatId) => $"chat:{chatId}";

    public static string User(Guid userId) => $"user:{userId}";
}
