using System.Text;
using Microsoft.EntityFrameworkCore;
using Whisper.Server.Data;

namespace Whisper.Server.Messages;

/// <summary>
/// Full-text search over message content, with each provider's own index: SQLite's FTS5 (new messages
/// indexed in batches by <see cref="SearchIndexer"/>, edits and deletes by triggers) or PostgreSQL's tsvector
/// with a GIN index.
/// </summary>
public sealed partial class MessageSearch(WhisperDbContext db, SearchIndexer indexer)
{
    private const int MaxTerms = 8;

    public async Task<List<Message>> FindAsync(Guid chatId, string text, long? before, int take, CancellationToken cancellationToken)
    {
        IQueryable<Message> matches;
        if (db.IsPostgres)
        {
            if (ToTsQuery(text) is not { } tsQuery)
            {
                return [];
            }

            matches = db.Messages.FromSql($"""
                SELECT m.* FROM "Messages" AS m WHERE m."SearchVector" @@ to_tsquery('simple', {tsQuery})
                """);
        }
        else
        {
            if (ToFts5Query(text) is not { } match)
            {
                return [];
            }

            // Every message stored before the search began is found.
            await indexer.CatchUpAsync(db, cancellationToken);

            matches = db.Messages.FromSql($"""
                SELECT m.* FROM "Messages" AS m
                JOIN "MessageSearchKeys" AS k ON k."MessageId" = m."Id"
                WHERE k."RowId" IN (SELECT rowid FROM "MessageSearch" WHERE "MessageSearch" MATCH {match})
                """);
        }

        var query = matches.AsNoTracking().Include(m => m.File).Where(m => m.ChatId == chatId && m.DeletedAt == null);
        if (before is { } cursor)
        {
            query = query.Where(m => m.Seq < cursor);
        }

        return await query.OrderByDescending(m => m.Seq).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Turns what a person typed into an FTS5 query that cannot be a syntax error: each word becomes a
    /// quoted phrase (all must match), and the last one also matches as a prefix, for search-as-you-type.
    /// </summary>
    public static string? ToFts5Query(string text)
    {
        var terms = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(term => term.Any(char.IsLetterOrDigit))
            .Take(MaxTerms)
            .ToList();
        if (terms.Count == 0)
        {
            return null;
        }

        var query = new StringBuilder();
        for (var i = 0; i < terms.Count; i++)
        {
            query.Append(i == 0 ? "" : " ").Append('"').Append(terms[i].Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }

        return query.Append('*').ToString();
    }

    /// <summary>The same for PostgreSQL: only letters and digits survive, so the tsquery is always well formed.</summary>
    public static string? ToTsQuery(string text)
    {
        var terms = Words().Matches(text).Select(m => m.Value).Take(MaxTerms).ToList();
        return terms.Count == 0 ? null : string.Join(" & ", terms) + ":*";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial System.Text.RegularExpressions.Regex Words();
}
