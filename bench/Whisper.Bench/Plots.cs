using System.Globalization;
using ScottPlot;

namespace Whisper.Bench;

/// <summary>
/// The figures behind the tables, one CSV row per measured load, and the PNG charts drawn from them:
/// latency percentiles against offered load, one chart per workload, one line per system measured.
/// </summary>
public static class Plots
{
    public static async Task AppendAsync(FileInfo csv, string chart, string series, IEnumerable<LoadResult> results, CancellationToken cancellationToken)
    {
        var rows = results.Select(r => string.Join(',',
            chart, series.Replace(", ", " – ").Replace(',', ' '), Number(r.OfferedRate), Number(r.DeliveriesPerSecond), Number(r.P50), Number(r.P99), Number(r.P999)));
        await File.AppendAllLinesAsync(csv.FullName, rows, cancellationToken);
    }

    /// <summary>Draws <c>{chart}.png</c> in <paramref name="directory"/> for every chart in the CSV.</summary>
    public static void Draw(FileInfo csv, DirectoryInfo directory, IReadOnlyDictionary<string, string> titles)
    {
        directory.Create();
        var rows = File.ReadAllLines(csv.FullName).Select(line => line.Split(','))
            .Select(f => (Chart: f[0], Series: f[1], Offered: Parse(f[2]), P50: Parse(f[4]), P99: Parse(f[5])));
        foreach (var chart in rows.GroupBy(r => r.Chart))
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var colour = 0;
            foreach (var series in chart.GroupBy(r => r.Series))
            {
                var points = series.Where(p => double.IsFinite(p.P99) && p.P99 > 0).OrderBy(p => p.Offered).ToList();
                var color = palette.GetColor(colour++);
                var p99 = plot.Add.Scatter(points.Select(p => Math.Log10(p.Offered)).ToArray(), points.Select(p => Math.Log10(p.P99)).ToArray(), color);
                p99.LegendText = $"{series.Key}: p99";
                var p50 = plot.Add.Scatter(points.Select(p => Math.Log10(p.Offered)).ToArray(), points.Select(p => Math.Log10(p.P50)).ToArray(), color);
                p50.LegendText = $"{series.Key}: p50";
                p50.LinePattern = LinePattern.Dashed;
            }

            // The goals are stated at p99 under 100 ms.
            var bound = plot.Add.HorizontalLine(2, 1, Colors.Gray, LinePattern.Dotted);
            bound.LegendText = "100 ms";
            // Latency spans a millisecond to tens of seconds and loads rise by doubling: log scales on both axes.
            plot.Axes.Left.TickGenerator = LogTicks();
            plot.Axes.Bottom.TickGenerator = LogTicks();
            plot.Title(titles.GetValueOrDefault(chart.Key, chart.Key));
            plot.XLabel("offered messages per second (log scale)");
            plot.YLabel("latency, ms (log scale)");
            plot.ShowLegend(Edge.Bottom);
            plot.SavePng(Path.Combine(directory.FullName, $"{chart.Key}.png"), 800, 600);
        }
    }

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = value => Math.Pow(10, value).ToString("N0", CultureInfo.InvariantCulture),
    };

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static double Parse(string value) => double.Parse(value, CultureInfo.InvariantCulture);
}
