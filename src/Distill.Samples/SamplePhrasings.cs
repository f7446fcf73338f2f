namespace Distill.Samples;

/// <summary>
/// The ways a question is asked and a worked answer is opened and closed, per problem kind. Several phrasings per
/// side give the teacher a distribution over wordings, so its soft targets carry more than the one reference
/// answer; the vocabulary stays small so a tiny model can learn it. {a}, {b}, {c} (the answer), {n} (a name) and
/// {x} (an item) are filled in.
/// </summary>
internal static class SamplePhrasings
{
    public static readonly string[] Names = ["Tom", "Anna", "Sam", "Mia"];

    public static readonly string[] Items = ["apples", "books", "coins", "cats"];

    public static string[] Questions(string kind) => kind switch
    {
        "add" =>
        [
            "What is {a} plus {b}?",
            "What is {a} + {b}?",
            "Add {a} and {b}.",
            "{n} has {a} {x} and gets {b} more. How many {x} does {n} have now?",
            "Can you tell me the sum of {a} and {b}?",
        ],
        "compare" =>
        [
            "Which is larger, {a} or {b}?",
            "Which number is bigger: {a} or {b}?",
            "{n} has {a} {x} and a friend has {b}. What is the larger number?",
            "Tell me the larger of {a} and {b}.",
        ],
        _ => throw new NotSupportedException($"sample phrasings: unknown kind '{kind}'"),
    };

    public static string[] Openings(string kind) => kind switch
    {
        "add" => ["", "Let us add column by column.", "We add the digits from the right.", "Add the columns from the ones up."],
        "compare" => ["", "Let us compare the digits.", "Count the digits first."],
        _ => throw new NotSupportedException($"sample phrasings: unknown kind '{kind}'"),
    };

    public static string[] Closings(string kind) => kind switch
    {
        "add" => ["", "So {a} + {b} = {c}."],
        "compare" => ["", "So the larger number is {c}."],
        _ => throw new NotSupportedException($"sample phrasings: unknown kind '{kind}'"),
    };
}
