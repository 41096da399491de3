using Ferry.Api.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Ferry.Api.Notifications;

internal static class NotificationExtensions
{
    public static WebApplicationBuilder AddFerryNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // One application name for every replica: a secret one of them encrypted is readable by all.
        builder.Services.AddDataProtection().SetApplicationName("ferry");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new PostgresXmlRepository(sp.GetRequiredService<IServiceScopeFactory>())));
        builder.Services.AddSingleton<SubscriptionSecrets>();
        builder.Services.AddSingleton<SubscriberClient>();
        builder.Services.AddSingleton<NotificationSignal>();
        builder.Services.AddHostedService<NotificationDelivery>();
        return builder;
    }
}
