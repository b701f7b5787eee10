// The whole .NET class library is here: threads, tasks, LINQ, files, the console.
Console.WriteLine($"hello from .NET {Environment.Version} on {Environment.OSVersion}");
var words = await Task.Run(() => "the quick brown fox".Split(' ').OrderBy(w => w.Length).ToArray());
Console.WriteLine(string.Join(" ", words));
Console.Write("your name? ");
Console.WriteLine($"hello, {Console.ReadLine()}");
return 0;
