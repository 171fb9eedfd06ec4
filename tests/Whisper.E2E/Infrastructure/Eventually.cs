namespace Whisper.E2E.Infrastructure;

/// <summary>Bounded polling of a condition outside the page (Playwright's Expect covers the page itself).</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs = (int)E2EFixture.WaitMs)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"Timed out after {timeoutMs} ms waiting until {what}.");
            await Task.Delay(50);
        }
    }
}
