using Microsoft.EntityFrameworkCore;

namespace Rocket.Sample.Todos;

/// <summary>The app's own database: one table, <c>todos</c>.</summary>
public sealed class TodoDbContext(DbContextOptions<TodoDbContext> options) : DbContext(options)
{
    public DbSet<Todo> Todos => Set<Todo>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<Todo>().ToTable("todos");
}
