using Whisper.Server.Messages;

namespace Whisper.Server.Tests.Units;

public sealed class MessageSearchTests
{
    [Theory]
    [InlineData("hello", "\"hello\"*")]
    [InlineData("  meet   at noon ", "\"meet\" \"at\" \"noon\"*")]
    [InlineData("say \"hi\"", "\"say\" \"\"\"hi\"\"\"*")]
    [InlineData("a OR b", "\"a\" \"OR\" \"b\"*")]
    public void Words_become_quoted_phrases_and_the_last_a_prefix(string text, string expected) =>
        Assert.Equal(expected, MessageSearch.ToFts5Query(text));

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("*** ?? --")]
    public void Text_without_words_finds_nothing(string text) => Assert.Null(MessageSearch.ToFts5Query(text));

    [Fact]
    public void At_most_eight_words_are_used() =>
        Assert.Equal(8, MessageSearch.ToFts5Query(string.Join(' ', Enumerable.Range(0, 20).Select(i => $"w{i}")))!.Split(' ').Length);
}
