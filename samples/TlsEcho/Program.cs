using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proactor;

// TLS over ProactorStream: SslStream runs on any Stream, so a Proactor connection carries TLS
// unchanged. The demo makes a self-signed certificate, serves one TLS echo connection and
// talks to it with SslStream over a second Proactor socket, pinning the certificate.
//   dotnet run --project samples/TlsEcho            (the demo; --demo is accepted too)
using ProactorEngine engine = EngineFactory.Create();
using X509Certificate2 certificate = CreateCertificate();
using ProactorSocket listener = ProactorSocket.CreateListener(engine, new IPEndPoint(IPAddress.Loopback, 0));
Console.WriteLine($"tls echo on {listener.LocalEndPoint} ({engine.Backend})");
Task server = ServeOneAsync(listener, certificate);

using var client = new ProactorSocket(engine, listener.LocalEndPoint!.AddressFamily);
await client.ConnectAsync(listener.LocalEndPoint!);
await using var tls = new SslStream(new ProactorStream(client), leaveInnerStreamOpen: false,
    (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString());
await tls.AuthenticateAsClientAsync("localhost");
Console.WriteLine($"handshake: {tls.SslProtocol}, server certificate pinned");

byte[] message = Encoding.UTF8.GetBytes("secret over proactor");
await tls.WriteAsync(message);
byte[] reply = new byte[message.Length];
await tls.ReadExactlyAsync(reply);
Console.WriteLine($"echoed: {Encoding.UTF8.GetString(reply)}");
await tls.ShutdownAsync();
await server;
return 0;

static async Task ServeOneAsync(ProactorSocket listener, X509Certificate2 certificate)
{
    using ProactorSocket connection = await listener.AcceptAsync();
    await using var tls = new SslStream(new ProactorStream(connection));
    await tls.AuthenticateAsServerAsync(certificate);
    byte[] buffer = new byte[1024];
    int n;
    while ((n = await tls.ReadAsync(buffer)) > 0)
    {
        await tls.WriteAsync(buffer.AsMemory(0, n));
    }
}

// A certificate for "localhost", valid for an hour. Exported and reloaded as PKCS#12 because
// Windows' TLS (SChannel) refuses the ephemeral key CreateSelfSigned returns.
static X509Certificate2 CreateCertificate()
{
    using RSA key = RSA.Create(2048);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    var names = new SubjectAlternativeNameBuilder();
    names.AddDnsName("localhost");
    request.CertificateExtensions.Add(names.Build());
    request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
    using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), password: null);
}
