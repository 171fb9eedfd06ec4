using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Whisper.Server.Common;

namespace Whisper.Server.Push;

/// <summary>
/// Push endpoints are URLs a user chose that the server then calls: only https on public addresses,
/// never loopback, private, link-local (cloud metadata) or other internal ranges. Checked when a
/// subscription is made and again for the address actually connected to (DNS may change).
/// </summary>
public sealed class PushEndpointPolicy(IOptions<WhisperOptions> options)
{
    private bool AllowLoopback => options.Value.Push.AllowLoopbackEndpoints;

    /// <summary>Null when acceptable, else why not.</summary>
    public string? Check(string? endpoint)
    {
        if (endpoint is not { Length: > 0 and <= 2048 } || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            return "The endpoint must be an absolute URL of at most 2048 characters.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "The endpoint must not carry credentials.";
        }

        var loopbackHost = uri.IsLoopback || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
        if (uri.Scheme != Uri.UriSchemeHttps && !(AllowLoopback && loopbackHost && uri.Scheme == Uri.UriSchemeHttp))
        {
            return "The endpoint must be an https URL.";
        }

        if (loopbackHost && !AllowLoopback)
        {
            return "The endpoint must be on a public address.";
        }

        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && !IsAllowed(address)
            ? "The endpoint must be on a public address."
            : null;
    }

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return AllowLoopback;
        }

        var bytes = address.GetAddressBytes();
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !(bytes[0] is 0 or 10 or 127 or >= 224
                || (bytes[0] == 100 && bytes[1] >= 64 && bytes[1] < 128)
                || (bytes[0] == 169 && bytes[1] == 254)
                || (bytes[0] == 172 && bytes[1] >= 16 && bytes[1] < 32)
                || (bytes[0] == 192 && bytes[1] == 168)
                || (bytes[0] == 192 && bytes[1] == 0 && bytes[2] == 0)
                || (bytes[0] == 198 && bytes[1] is 18 or 19)),
            AddressFamily.InterNetworkV6 => !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || address.Equals(IPAddress.IPv6Any) || (bytes[0] & 0xFE) == 0xFC),
            _ => false,
        };
    }

    /// <summary>Connects only to allowed addresses of the endpoint's host, so DNS cannot point a push at an internal service.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"The push endpoint {context.DnsEndPoint.Host} resolves to no public address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
