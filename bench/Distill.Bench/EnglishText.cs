using System.Text;

namespace Distill.Bench;

/// <summary>
/// Deterministic English-like text for the tokenizer benchmark, so it needs no download: words drawn with
/// Zipfian frequencies from a list of common English words plus a long tail of syllable-built rare words
/// (real text keeps meeting words the vocabulary has never seen whole), sentence capitals, punctuation,
/// numbers, quotes, paragraph breaks and a little non-ASCII (accented words, dashes, curly quotes, €).
/// </summary>
internal sealed class EnglishText
{
    private static readonly string[] Common = """
        the of and to a in is it you that he was for on are with as I his they be at one have this from or had by
        not word but what some we can out other were all there when up use your how said an each she which do their
        time if will way about many then them write would like so these her long make thing see him two has look
        more day could go come did number sound no most people my over know water than call first who may down side
        been now find any new work part take get place made live where after back little only round man year came
        show every good me give our under name very through just form sentence great think say help low line differ
        turn cause much mean before move right boy old too same tell does set three want air well also play small
        end put home read hand port large spell add even land here must big high such follow act why ask men change
        went light kind off need house picture try us again animal point mother world near build self earth father
        head stand own page should country found answer school grow study still learn plant cover food sun four
        between state keep eye never last let thought city tree cross farm hard start might story saw far sea draw
        left late run don't while press close night real life few north open seem together next white children begin
        got walk example ease paper group always music those both mark often letter until mile river car feet care
        second book carry took science eat room friend began idea fish mountain stop once base hear horse cut sure
        watch color face wood main enough plain girl usual young ready above ever red list though feel talk bird soon
        body dog family direct pose leave song measure door product black short numeral class wind question happen
        complete ship area half rock order fire south problem piece told knew pass since top whole king space heard
        best hour better true during hundred five remember step early hold west ground interest reach fast verb sing
        listen six table travel less morning ten simple several vowel toward war lay against pattern slow center love
        person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly
        fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty
        drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special
        mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object
        decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder
        laugh thousand ago ran check game shape equate hot miss brought heat snow tire bring yes distant fill east
        paint language among it's café naïve résumé über façade déjà
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);

    private static readonly string[] Syllables =
    [
        "ka", "lo", "mi", "ter", "son", "dra", "vel", "qui", "ben", "tor", "fa", "gen", "ul", "rim", "sto", "na",
        "pex", "zo", "har", "lin", "cor", "de", "mun", "ths", "ob", "ris", "tal", "wen", "ply", "gra", "sen", "vo",
        "ex", "bri", "um", "cha", "pol", "ne", "yst", "ga", "ron", "shi", "ed", "fo", "lu", "mor", "ap", "ing",
    ];

    private const int RareWords = 150_000;

    private static readonly string[] Ends = [".", ".", ".", ".", "?", "!", "..."];
    private static readonly string[] Joins = [",", ",", ",", ";", ":", " —", " -"];

    private readonly Random _random;
    private readonly double[] _commonCdf = ZipfCdf(Common.Length);
    private readonly double[] _rareCdf = ZipfCdf(RareWords);

    /// <param name="seed">Texts from different seeds share the vocabulary but not the word order (training vs held-out text).</param>
    public EnglishText(int seed) => _random = new Random(seed);

    /// <summary>Documents of a few paragraphs each, together at least <paramref name="chars"/> characters.</summary>
    public List<string> Documents(long chars)
    {
        var documents = new List<string>();
        long total = 0;
        var builder = new StringBuilder();
        while (total < chars)
        {
            builder.Clear();
            int paragraphs = _random.Next(1, 6);
            for (int p = 0; p < paragraphs; p++)
            {
                if (p > 0) builder.Append("\n\n");
                Paragraph(builder);
            }
            documents.Add(builder.ToString());
            total += builder.Length;
        }
        return documents;
    }

    private void Paragraph(StringBuilder builder)
    {
        int sentences = _random.Next(2, 9);
        for (int s = 0; s < sentences; s++)
        {
            if (s > 0) builder.Append(' ');
            Sentence(builder);
        }
    }

    private void Sentence(StringBuilder builder)
    {
        bool quoted = _random.NextDouble() < 0.05;
        if (quoted) builder.Append('“');
        int words = _random.Next(4, 22);
        for (int w = 0; w < words; w++)
        {
            if (w > 0)
            {
                if (_random.NextDouble() < 0.08) builder.Append(Joins[_random.Next(Joins.Length)]);
                builder.Append(' ');
            }
            string word = Word();
            bool capital = w == 0 || _random.NextDouble() < 0.04;
            if (capital && char.IsLetter(word[0]))
                builder.Append(char.ToUpperInvariant(word[0])).Append(word, 1, word.Length - 1);
            else
                builder.Append(word);
        }
        builder.Append(Ends[_random.Next(Ends.Length)]);
        if (quoted) builder.Append('”');
    }

    private string Word()
    {
        double u = _random.NextDouble();
        if (u < 0.03) return Number();
        if (u < 0.2) return RareWord(Sample(_rareCdf));
        return Common[Sample(_commonCdf)];
    }

    private string Number() => _random.Next(6) switch
    {
        0 => _random.Next(1900, 2030).ToString(System.Globalization.CultureInfo.InvariantCulture),
        1 => $"{_random.Next(1, 100)}%",
        2 => $"{_random.Next(1, 1000)},{_random.Next(1000):D3}",
        3 => $"{_random.Next(100)}.{_random.Next(100):D2}",
        4 => $"€{_random.Next(1, 500)}",
        _ => _random.Next(1, 13).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Rare word i spelled in base-48 syllables: two syllables for the most frequent, three or four further down.</summary>
    private static string RareWord(int i)
    {
        var builder = new StringBuilder();
        int n = i + Syllables.Length;
        while (n > 0)
        {
            builder.Append(Syllables[n % Syllables.Length]);
            n /= Syllables.Length;
        }
        return builder.ToString();
    }

    private int Sample(double[] cdf)
    {
        int i = Array.BinarySearch(cdf, _random.NextDouble() * cdf[^1]);
        return Math.Min(i < 0 ? ~i : i, cdf.Length - 1);
    }

    /// <summary>Cumulative weights 1/(rank+2.7), a Zipf-Mandelbrot law like word counts of English.</summary>
    private static double[] ZipfCdf(int n)
    {
        var cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += 1.0 / (i + 2.7);
            cdf[i] = sum;
        }
        return cdf;
    }
}
