using Whisper.Server.Receipts;

namespace Whisper.Server.Tests.Units;

public sealed class WatermarkTests
{
    private static readonly Guid Sender = Guid.NewGuid();

    [Fact]
    public void The_status_is_the_least_advanced_recipient()
    {
        Watermark[] members =
        [
            new(Sender, JoinedSeq: 0, DeliveredSeq: 0, ReadSeq: 0),
            new(Guid.NewGuid(), JoinedSeq: 0, DeliveredSeq: 9, ReadSeq: 9),
            new(Guid.NewGuid(), JoinedSeq: 0, DeliveredSeq: 9, ReadSeq: 4),
        ];

        Assert.Equal(ReceiptStatus.Read, Watermark.Aggregate(4, Sender, members));
        Assert.Equal(ReceiptStatus.Delivered, Watermark.Aggregate(5, Sender, members));
        Assert.Equal(ReceiptStatus.Sent, Watermark.Aggregate(10, Sender, members));
    }

    [Fact]
    public void Members_who_joined_after_a_message_do_not_hold_it_back()
    {
        Watermark[] members =
        [
            new(Guid.NewGuid(), JoinedSeq: 0, DeliveredSeq: 3, ReadSeq: 3),
            new(Guid.NewGuid(), JoinedSeq: 3, DeliveredSeq: 3, ReadSeq: 3),
        ];

        Assert.Equal(ReceiptStatus.Read, Watermark.Aggregate(3, Sender, members));
    }

    [Fact]
    public void A_message_with_no_recipients_is_sent() =>
        Assert.Equal(ReceiptStatus.Sent, Watermark.Aggregate(1, Sender, [new(Sender, 0, 0, 0)]));
}
