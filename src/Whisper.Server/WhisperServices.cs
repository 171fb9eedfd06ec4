using Whisper.Server.Chats;
using Whisper.Server.Common;
using Whisper.Server.Files;
using Whisper.Server.Messages;
using Whisper.Server.Receipts;
using Whisper.Server.Storage;
using Whisper.Server.Users;

namespace Whisper.Server;

public static class WhisperServices
{
    /// <summary>Binds and validates the <c>Whisper</c> section; a wrong setting stops the start with a clear message.</summary>
    public static IHostApplicationBuilder AddWhisperOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WhisperOptions>()
            .Bind(builder.Configuration.GetSection(WhisperOptions.Section))
            .Validate(options => Auth.SigningKeys.IsValidOrAbsent(options.Jwt.SigningKey), Auth.SigningKeys.KeyRule)
            .ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<WhisperOptions>, WhisperOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static IHostApplicationBuilder AddWhisperFeatures(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<UserService>();
        services.AddScoped<ChatService>();
        services.AddScoped<ChatViews>();
        services.AddSingleton<ChatMembershipCache>();
        services.AddScoped<MessageService>();
        services.AddScoped<MessagePages>();
        services.AddSingleton<MessageWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<MessageWriter>());
        services.AddSingleton<ReceiptWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<ReceiptWriter>());
        services.AddSingleton<SearchIndexer>();
        services.AddHostedService(provider => provider.GetRequiredService<SearchIndexer>());
        services.AddScoped<MessageSearch>();
        services.AddScoped<ReceiptService>();
        services.AddScoped<FileService>();
        services.AddSingleton<LocalFileStore>();
        services.AddSingleton<S3FileStore>();
        // Chosen when first needed, from the final configuration.
        services.AddSingleton<IFileStore>(provider =>
            provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<WhisperOptions>>().Value.Storage.Provider == StorageProvider.S3
                ? provider.GetRequiredService<S3FileStore>()
                : provider.GetRequiredService<LocalFileStore>());
        return builder;
    }
}

/// <summary>Compile-time validation of the data annotations on <see cref="WhisperOptions"/> and its nested sections.</summary>
[Microsoft.Extensions.Options.OptionsValidator]
public sealed partial class WhisperOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<WhisperOptions>;
