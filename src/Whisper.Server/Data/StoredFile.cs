using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Whisper.Server.Data;

/// <summary>A file shared in a chat. The bytes live in the file store under <see cref="StorageKey"/>, a generated name.</summary>
public sealed class StoredFile
{
    public Guid Id { get; set; }

    public Guid ChatId { get; set; }

    public Guid UploaderId { get; set; }

    /// <summary>The client's file name, cleaned; metadata only, never a path.</summary>
    public required string Name { get; set; }

    public required string ContentType { get; set; }

    public long Size { get; set; }

    public required string StorageKey { get; set; }

    /// <summary>Hex SHA-256 of the bytes; the download's ETag.</summary>
    public required string Sha256 { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }
}

internal sealed class StoredFileConfiguration : IEntityTypeConfiguration<StoredFile>
{
    public void Configure(EntityTypeBuilder<StoredFile> file)
    {
        file.ToTable("Files");
        file.Property(f => f.Name).HasMaxLength(255);
        file.Property(f => f.ContentType).HasMaxLength(127);
        file.Property(f => f.StorageKey).HasMaxLength(200);
        file.Property(f => f.Sha256).HasMaxLength(64);
        file.HasIndex(f => new { f.ChatId, f.CreatedAt });
        file.HasOne<Chat>().WithMany().HasForeignKey(f => f.ChatId).OnDelete(DeleteBehavior.Cascade);
    }
}
